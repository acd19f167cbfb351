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
