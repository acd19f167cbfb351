/**
 * Yamux receive-window updates when half the window is used, not after every data frame.
 *
 * @chainsafe/libp2p-yamux answers every data frame it receives with a WindowUpdate frame (its
 * `handleData` calls `sendWindowUpdate`, which sends whenever any credit was used). Every PBU,
 * PBA and record request or answer on a kept stream (doc/ARCHITECTURE.md "One stream per peer,
 * pipelined") thus cost a second frame back: one more noise encryption and TCP write at one end,
 * one more read, decryption and frame parse at the other. The yamux specification leaves the
 * moment of an update to the receiver; go-yamux (and this patch) send one once the unused
 * credit falls to half the window or below. The sender is never starved: it still holds half a
 * window (128 KiB at first) when the update leaves. Window growth, pauses and the first frames
 * of a stream (SYN/ACK flags) keep the library's own code.
 */
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/** The fields of a YamuxStream this reads (private in its type, plain properties at run time). */
interface WindowState { state: StreamState, recvWindow: number, recvWindowCapacity: number }

let installed = false

/** Installs the half-window rule on every yamux stream of this process (once). */
export function updateYamuxWindowsAtHalf (): void {
  if (installed) return
  installed = true
  const eager = YamuxStream.prototype.sendWindowUpdate
  YamuxStream.prototype.sendWindowUpdate = function (this: YamuxStream): void {
    const s = this as unknown as WindowState
    if (s.state === StreamState.Established && s.recvWindowCapacity * 2 > s.recvWindow) return
    eager.call(this)
  }
}
