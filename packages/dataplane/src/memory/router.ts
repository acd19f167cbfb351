/** One simulated MAAR as the network sees it: backbone identity plus its programmed "kernel". */
import { parsePrefix } from '@dmm-mesh/wire'
import type { Ipv6Prefix } from '@dmm-mesh/wire'
import { PrefixTable } from './lpm.js'
import { emptyProgrammed } from './state.js'
import type { Programmed, Route } from './state.js'

export interface Router {
  name: string
  address: string
  pools: Ipv6Prefix[]
  programmed: Programmed
  /** Longest-prefix view of `programmed.routes` (the FIB). */
  fib: PrefixTable<Route>
  /** The driver programming this router now, if one is running. */
  owner?: object
}

export function newRouter (name: string, address: string, pools: Ipv6Prefix[]): Router {
  return { name, address, pools, programmed: emptyProgrammed(), fib: new PrefixTable() }
}

export function program (router: Router, next: Programmed): void {
  const fib = new PrefixTable<Route>()
  for (const route of next.routes.values()) fib.set(parsePrefix(route.prefix), route)
  router.programmed = next
  router.fib = fib
}
