/**
 * predictAt: each open flow's inputs as its packets arrive, kept until its Nth packet (or its
 * end, if it has fewer) — payload bytes, header rows and SPLT built from the packets exactly as
 * the meter builds payload_bytes, header_bytes and the SPLT lists (test/77 checks them equal on
 * real captures), and the counters a hook sees. One slot per open flow in shared typed arrays
 * that grow by doubling: no allocation per flow.
 */
import { PluginFlow, PluginPacket } from '../api';
import { Binding } from './bind';
import { AT_PACKET } from './spec';

export class EarlyStore {
  private cap = 0;
  private free: number[] = [];
  private used = 0;
  readonly L: number; readonly P: number; readonly W: number; readonly S: number;
  payload = new Uint8Array(0);
  payloadLen = new Uint32Array(0);
  header = new Uint8Array(0);
  headerCount = new Uint32Array(0);
  /** per slot: S directions, S sizes, S inter-arrival times */
  splt = new Float64Array(0);
  spltCount = new Uint32Array(0);
  /** bidirectional bytes counted into the SPLT sizes so far */
  spltBytes = new Float64Array(0);
  /** the AT_PACKET counters, as of the slot's latest packet */
  counters = new Float64Array(0);

  constructor(bindings: Binding[]) {
    this.L = Math.max(0, ...bindings.map((b) => b.L));
    this.P = Math.max(0, ...bindings.map((b) => b.P));
    this.W = Math.max(0, ...bindings.map((b) => b.W));
    this.S = Math.max(0, ...bindings.map((b) => b.S));
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const more = <T extends Float64Array | Uint8Array | Uint32Array>(old: T, per: number, make: (n: number) => T): T => {
      const a = make(cap * per);
      a.set(old);
      return a;
    };
    this.payload = more(this.payload, this.L, (n) => new Uint8Array(n));
    this.payloadLen = more(this.payloadLen, 1, (n) => new Uint32Array(n));
    this.header = more(this.header, this.P * this.W, (n) => new Uint8Array(n));
    this.headerCount = more(this.headerCount, 1, (n) => new Uint32Array(n));
    this.splt = more(this.splt, 3 * this.S, (n) => new Float64Array(n));
    this.spltCount = more(this.spltCount, 1, (n) => new Uint32Array(n));
    this.spltBytes = more(this.spltBytes, 1, (n) => new Float64Array(n));
    this.counters = more(this.counters, AT_PACKET.length, (n) => new Float64Array(n));
    for (let s = cap - 1; s >= this.cap; s--) this.free.push(s);
    this.cap = cap;
  }

  /** A cleared slot for a new flow. */
  take(): number {
    if (!this.free.length) this.grow();
    const s = this.free.pop() as number;
    this.used++;
    this.payload.fill(0, s * this.L, (s + 1) * this.L);
    this.payloadLen[s] = 0;
    this.header.fill(0, s * this.P * this.W, (s + 1) * this.P * this.W);
    this.headerCount[s] = 0;
    this.splt.fill(-1, s * 3 * this.S, (s + 1) * 3 * this.S);
    this.spltCount[s] = 0;
    this.spltBytes[s] = 0;
    return s;
  }

  release(s: number): void {
    this.free.push(s);
    this.used--;
  }

  get open(): number {
    return this.used;
  }

  /** The packet, counted into slot s (flow: its counters with this packet in). */
  add(s: number, packet: PluginPacket, flow: PluginFlow): void {
    const view = flow as unknown as Record<string, number>;
    const c = s * AT_PACKET.length;
    for (let j = 0; j < AT_PACKET.length; j++) this.counters[c + j] = view[AT_PACKET[j]];
    if (this.L && this.payloadLen[s] < this.L) {
      const p = packet.payload;
      const n = Math.min(p.length, this.L - this.payloadLen[s]);
      if (n > 0) {
        this.payload.set(p.subarray(0, n), s * this.L + this.payloadLen[s]);
        this.payloadLen[s] += n;
      }
    }
    if (this.P && this.headerCount[s] < this.P) this.addHeader(s, packet);
    if (this.S && this.spltCount[s] < this.S) {
      const i = this.spltCount[s]++, base = s * 3 * this.S;
      const size = flow.bidirectional_bytes - this.spltBytes[s];
      this.spltBytes[s] = flow.bidirectional_bytes;
      this.splt[base + i] = packet.direction;
      this.splt[base + this.S + i] = size;
      this.splt[base + 2 * this.S + i] = packet.deltaTime;
    }
  }

  /** The IP and transport headers, cut to W, addresses, ports and checksums zeroed (as the meter does). */
  private addHeader(s: number, packet: PluginPacket): void {
    const ip = packet.ipPacket;
    const row = s * this.P * this.W + this.headerCount[s]++ * this.W;
    const n = Math.min(packet.transportOffset + packet.transportHeaderSize, ip.length, this.W);
    this.header.set(ip.subarray(0, n), row);
    const zero = (from: number, to: number) => { for (let i = from; i < to && i < n; i++) this.header[row + i] = 0; };
    if (packet.ipVersion === 6) zero(8, 40);
    else zero(10, 20);
    const l4 = packet.transportOffset;
    if (packet.protocol === 6 || packet.protocol === 17) zero(l4, l4 + 4);
    if (packet.protocol === 6) zero(l4 + 16, l4 + 18);
    if (packet.protocol === 17) zero(l4 + 6, l4 + 8);
  }

  counter(s: number, name: string): number {
    return this.counters[s * AT_PACKET.length + AT_PACKET.indexOf(name)];
  }
}
