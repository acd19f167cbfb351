/** One simulated MAAR as the network sees it: backbone identity plus its programmed "kernel". */
import { createHash } from 'node:crypto'
import { parsePrefix } from '@dmm-mesh/wire'
import type { Ipv6Prefix } from '@dmm-mesh/wire'
import { eui64LinkLocal } from '../dlif.js'
import type { AccessRouter, RouterMode } from '../dlif.js'
import { PrefixTable } from './lpm.js'
import { emptyProgrammed } from './state.js'
import type { Programmed, Route } from './state.js'

export interface Router {
  name: string
  address: string
  pools: Ipv6Prefix[]
  /** Which router its MNs see for each prefix (dlif.ts), as the Linux driver's dlif/accessRouter. */
  mode: RouterMode
  programmed: Programmed
  /** Longest-prefix view of `programmed.routes` (the FIB). */
  fib: PrefixTable<Route>
  /** The driver programming this router now, if one is running. */
  owner?: object
}

export function newRouter (name: string, address: string, pools: Ipv6Prefix[], mode: RouterMode): Router {
  return { name, address, pools, mode, programmed: emptyProgrammed(), fib: new PrefixTable() }
}

/**
 * The access link's own router identity, used when the mode fixes none (`accessRouter: false`):
 * the simulation's stand-in for a NIC's MAC, locally administered and different per MAAR.
 */
export function ownAccessRouter (router: Router): AccessRouter {
  const h = createHash('sha256').update(`access|${router.address}`).digest('hex').slice(0, 10)
  const mac = ['02', ...h.match(/../g) as string[]].join(':')
  return { mac, linkLocal: eui64LinkLocal(mac) }
}

export function program (router: Router, next: Programmed): void {
  const fib = new PrefixTable<Route>()
  for (const route of next.routes.values()) fib.set(parsePrefix(route.prefix), route)
  router.programmed = next
  router.fib = fib
}

/** Replaces some MNs' parts of the programmed state in place: old parts out, new parts in, FIB too. */
export function replaceParts (router: Router, old: Programmed[], next: Programmed[]): void {
  for (const part of old) {
    for (const prefix of part.routes.keys()) {
      router.programmed.routes.delete(prefix)
      router.fib.delete(parsePrefix(prefix))
    }
    for (const mnId of part.ads.keys()) router.programmed.ads.delete(mnId)
  }
  for (const part of next) {
    for (const [prefix, route] of part.routes) {
      router.programmed.routes.set(prefix, route)
      router.fib.set(parsePrefix(prefix), route)
    }
    for (const [mnId, ad] of part.ads) router.programmed.ads.set(mnId, ad)
  }
}
