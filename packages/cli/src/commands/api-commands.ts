/**
 * The commands that talk to a running MAAR's management API (cmds/client.ts): attach, detach,
 * deregister, bindings, session, status. Each prints the API's JSON answer.
 */
import { apiOption, positiveInt } from './args.js'
import { printJson } from './command.js'
import type { DmmCommand } from './command.js'

interface Args { api: string, mn: string, link: string, lladdr: string, att?: number }

const mn = { mn: { type: 'string', demandOption: true, requiresArg: true, describe: 'the MN\'s identifier (e.g. alice@dmm.example)' } } as const
const EXAMPLE_API = 'http://127.0.0.1:7001'

async function call (api: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<number> {
  const { callApi } = await import('../cmds/client.js')
  printJson(await callApi(api, method, path, body))
  return 0
}

export const attachCommand: DmmCommand<Args> = {
  command: 'attach',
  describe: 'An MN attached to an access link of this MAAR: first attach or handover (POST /attach); prints the handover report',
  options: {
    ...apiOption,
    ...mn,
    link: { type: 'string', demandOption: true, requiresArg: true, describe: 'the access link' },
    lladdr: { type: 'string', demandOption: true, requiresArg: true, describe: 'the MN\'s link-layer identifier' },
    att: { type: 'number', requiresArg: true, describe: 'access technology type (RFC 5213 §8.5)' }
  },
  examples: [[`dmm attach --api ${EXAMPLE_API} --mn alice@dmm.example --link access0 --lladdr 02:00:00:00:00:01`, 'alice attaches']],
  handler: async a => await call(a.api, 'POST', '/attach', {
    mnId: a.mn,
    accessLink: a.link,
    linkLayerId: a.lladdr,
    ...(a.att !== undefined ? { accessTechnology: positiveInt(a.att, 'att') } : {})
  })
}

function byMn (name: 'detach' | 'deregister', describe: string): DmmCommand<Args> {
  return {
    command: name,
    describe,
    options: { ...apiOption, ...mn },
    examples: [[`dmm ${name} --api ${EXAMPLE_API} --mn alice@dmm.example`, `${name} alice`]],
    handler: async a => await call(a.api, 'POST', `/${name}`, { mnId: a.mn })
  }
}

export const detachCommand = byMn('detach', 'The MN left its access link (POST /detach); its registration expires with its lifetime')
export const deregisterCommand = byMn('deregister', 'End the MN\'s session now (POST /deregister): every anchor frees its prefixes')

function view (name: 'bindings' | 'status', describe: string): DmmCommand<Args> {
  return {
    command: name,
    describe,
    options: { ...apiOption },
    examples: [[`dmm ${name} --api ${EXAMPLE_API}`, describe]],
    handler: async a => await call(a.api, 'GET', `/${name}`)
  }
}

export const bindingsCommand = view('bindings', 'Print the MAAR\'s binding cache (GET /bindings)')
export const statusCommand = view('status', 'Print the MAAR\'s identity and addresses (GET /status)')

export const sessionCommand: DmmCommand<Args> = {
  command: 'session',
  describe: 'Print the MN\'s session record as the directory answers it (GET /session)',
  options: { ...apiOption, ...mn },
  examples: [[`dmm session --api ${EXAMPLE_API} --mn alice@dmm.example`, 'where alice\'s prefixes are anchored']],
  handler: async a => await call(a.api, 'GET', `/session?mn=${encodeURIComponent(a.mn)}`)
}
