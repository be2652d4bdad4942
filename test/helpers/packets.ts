/** Builds frames and pcap files byte by byte, so tests control every header they feed the meter. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const u8 = (...parts: (Buffer | number[] | Uint8Array)[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p as Uint8Array)));
export const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

export function ip4(addr: string): number[] {
  return addr.split('.').map(Number);
}

export function ip6(addr: string): number[] {
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.flatMap((g) => be16(parseInt(g, 16)));
}

export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10;

export function tcp(sport: number, dport: number, flags = TCP_ACK, payload: Buffer = Buffer.alloc(0), seq = 1, ack = 0): Buffer {
  return u8([...be16(sport), ...be16(dport), ...be32(seq), ...be32(ack), 0x50, flags, ...be16(65535), 0, 0, 0, 0], payload);
}

export function udp(sport: number, dport: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  return u8([...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0], payload);
}

export function icmpEcho(payload: Buffer = Buffer.alloc(8)): Buffer {
  return u8([8, 0, 0, 0, 0, 1, 0, 1], payload);
}

export interface Ip4Opts { fragOffset?: number; moreFragments?: boolean; ihl?: number; totalLength?: number }

export function ipv4(src: string, dst: string, proto: number, l4: Buffer, o: Ip4Opts = {}): Buffer {
  const ihl = o.ihl ?? 5;
  const frag = ((o.moreFragments ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff));
  const total = o.totalLength ?? 20 + l4.length;
  return u8([0x40 | ihl, 0, ...be16(total), 0, 1, ...be16(frag), 64, proto, 0, 0, ...ip4(src), ...ip4(dst)], l4);
}

export function ipv6(src: string, dst: string, nextHeader: number, l4: Buffer): Buffer {
  return u8([0x60, 0, 0, 0, ...be16(l4.length), nextHeader, 64, ...ip6(src), ...ip6(dst)], l4);
}

/** An IPv6 extension header (hop-by-hop, routing, destination) of 8 bytes. */
export function ext6(next: number, rest: Buffer): Buffer {
  return u8([next, 0, 0, 0, 0, 0, 0, 0], rest);
}

export function frag6(next: number, offset: number, more: boolean, rest: Buffer): Buffer {
  return u8([next, 0, ...be16((offset << 3) | (more ? 1 : 0)), 0, 0, 0, 7], rest);
}

export const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
export const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

export function ether(type: number, payload: Buffer, src = MAC_A, dst = MAC_B): Buffer {
  return u8([...dst, ...src, ...be16(type)], payload);
}

export function vlanTag(id: number, innerType: number): number[] {
  return [...be16(id & 0xfff), ...be16(innerType)];
}

/** ns: nanoseconds within second t (a nanosecond file; t is then whole seconds) */
export interface Record { t: number; frame: Buffer; wireLen?: number; ns?: number }

/** Packet time t is in seconds (fractions allowed; microsecond precision), or whole seconds plus
 * ns in a nanosecond-resolution file (nano). */
export function pcap(linktype: number, records: Record[], snaplen = 262144, nano = false): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(snaplen, 16);
  gh.writeUInt32LE(linktype, 20);
  parts.push(gh);
  for (const r of records) {
    const h = Buffer.alloc(16);
    const sec = Math.floor(r.t);
    h.writeUInt32LE(sec, 0);
    h.writeUInt32LE(nano ? r.ns ?? 0 : Math.round((r.t - sec) * 1e6), 4);
    h.writeUInt32LE(r.frame.length, 8);
    h.writeUInt32LE(r.wireLen ?? r.frame.length, 12);
    parts.push(h, r.frame);
  }
  return Buffer.concat(parts);
}

/** n UDP packets to 192.168.7.1:53, written straight into one capture buffer (fast, for captures of
 * many packets): packet i at `start` seconds plus i × stepUs microseconds, from 10.0.0.0 + i % sources
 * (each source a flow), with a payload of `payload` bytes. */
export function udpBurst(n: number, o: { start: number; stepUs: number; sources: number; payload: number }): Buffer {
  const frame = ether(0x0800, ipv4('10.0.0.0', '192.168.7.1', 17, udp(40000, 53, Buffer.alloc(o.payload))));
  const head = pcap(DLT.EN10MB, []);
  const size = 16 + frame.length;
  const out = Buffer.alloc(head.length + n * size);
  head.copy(out);
  for (let i = 0, at = head.length; i < n; i++, at += size) {
    const us = i * o.stepUs;
    out.writeUInt32LE(o.start + Math.floor(us / 1_000_000), at);
    out.writeUInt32LE(us % 1_000_000, at + 4);
    out.writeUInt32LE(frame.length, at + 8);
    out.writeUInt32LE(frame.length, at + 12);
    frame.copy(out, at + 16);
    out.writeUInt32BE((10 << 24) | (i % o.sources), at + 16 + 26); // the source address
  }
  return out;
}

let tmpDir: string | undefined;
export function tmpdir(): string {
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-test-'));
  return tmpDir;
}

export function writePcap(name: string, linktype: number, records: Record[]): string {
  const file = path.join(tmpdir(), name);
  fs.writeFileSync(file, pcap(linktype, records));
  return file;
}

export const DLT = { NULL: 0, EN10MB: 1, PPP: 9, RAW: 101, C_HDLC: 104, LOOP: 108, LINUX_SLL: 113, RADIOTAP: 127, IPV4: 228, IPV6: 229, LINUX_SLL2: 276, PPI: 192 };
