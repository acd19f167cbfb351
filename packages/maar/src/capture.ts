/**
 * A capture of the MAAR's signalling for Wireshark/tshark: every PBU and PBA it sends or
 * receives, written as the IPv6 packet it stands for — a Mobility Header (next header 135,
 * RFC 6275 §6.1) between the two MAARs' tunnel addresses, its checksum computed over them
 * (RFC 6275 §6.1.1) — whichever transport actually carried it (doc/ARCHITECTURE.md "Trust": PBU/PBA
 * travel over libp2p streams). A decorator of any SignallingTransport, so it sees both sides: the
 * exchanges this MAAR starts as serving MAAR and the PBUs it answers as anchor.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { pcapFileHeader, pcapRecord } from '@dmm-mesh/wire'
import type { BindingAck, BindingUpdate } from '@dmm-mesh/wire'
import type { Logger } from './logger.js'
import type { PbaHandler, PbuHandler, SignallingTransport } from './transport.js'

/** Where captured messages go: one message between two tunnel addresses at a time. */
export interface MessageCapture {
  record: (message: BindingUpdate | BindingAck, source: string, destination: string, timeMs: number) => void
  close: () => void
}

/**
 * A pcap file (LINKTYPE_IPV6) written as messages come: each record is on disk when `record`
 * returns, so tshark can read the file of a running MAAR. A failed write is logged once and
 * ends the capture; the MAAR runs on.
 */
export class PcapFileCapture implements MessageCapture {
  private fd: number | undefined

  constructor (readonly path: string, private readonly log?: Logger) {
    this.fd = openSync(path, 'w')
    writeSync(this.fd, pcapFileHeader())
  }

  record (message: BindingUpdate | BindingAck, source: string, destination: string, timeMs: number): void {
    if (this.fd === undefined) return
    try {
      writeSync(this.fd, pcapRecord({ message, source, destination, timeMs }))
    } catch (err) {
      this.log?.error('capture stopped: write failed', { file: this.path, error: err instanceof Error ? err.message : String(err) })
      this.close()
    }
  }

  close (): void {
    if (this.fd === undefined) return
    closeSync(this.fd)
    this.fd = undefined
  }
}

/** The peer as PbuSender passes it: a MaarRef, its tunnel address known from the record. */
type Peer = Parameters<SignallingTransport['exchange']>[0] & { address?: string }

/** `inner`, with every PBU and PBA it carries recorded to `capture`; `address` is this MAAR's tunnel address. */
export function capturingTransport (inner: SignallingTransport, capture: MessageCapture, address: string): SignallingTransport {
  return {
    knownPeer: peerId => inner.knownPeer(peerId),
    meet: async peer => await inner.meet(peer),
    connect: peer => { inner.connect(peer) },
    notify: async (peer, pba) => {
      const sentAt = Date.now()
      const to = await inner.notify(peer, pba)
      capture.record(pba, address, to.address, sentAt)
      return to
    },
    start: async (handler: PbuHandler, onPba?: PbaHandler) => {
      await inner.start(async (pbu, from) => {
        capture.record(pbu, from.address, address, Date.now())
        const ack = await handler(pbu, from)
        capture.record(ack, address, from.address, Date.now())
        return ack
      }, onPba === undefined ? undefined : async (pba, from) => {
        capture.record(pba, from.address, address, Date.now())
        await onPba(pba, from)
      })
    },
    stop: async () => { await inner.stop() },
    exchange: async (peer: Peer, pbu, opts) => {
      const sentAt = Date.now()
      // Recorded before the answer: a PBU that gets no PBA (retransmissions) is worth seeing.
      const before = peer.address !== undefined && peer.address !== '' ? peer.address : inner.knownPeer(peer.peerId)?.address
      if (before !== undefined) capture.record(pbu, address, before, sentAt)
      const answer = await inner.exchange(peer, pbu, opts)
      if (before === undefined) capture.record(pbu, address, answer.from.address, sentAt)
      capture.record(answer.ack, answer.from.address, address, Date.now())
      return answer
    }
  }
}
