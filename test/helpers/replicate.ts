/**
 * Streams many copies of a classic pcap (Ethernet or raw IPv4) as one capture: each copy's IPv4
 * addresses XORed with its copy number (both directions alike, so flows stay whole and each copy
 * makes new ones), its times shifted past the previous copy. For memory tests at millions of flows.
 */
import * as fs from 'node:fs';
import { Writable } from 'node:stream';

const LINK_ETHERNET = 1;

export function pcapRecords(file: string): { header: Buffer; records: Buffer[]; spanSec: number; linktype: number } {
  const data = fs.readFileSync(file);
  if (data.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap`);
  const linktype = data.readUInt32LE(20);
  const records: Buffer[] = [];
  let first = -1;
  let last = 0;
  for (let at = 24; at + 16 <= data.length;) {
    const caplen = data.readUInt32LE(at + 8);
    const sec = data.readUInt32LE(at);
    if (first < 0) first = sec;
    last = sec;
    records.push(data.subarray(at, at + 16 + caplen));
    at += 16 + caplen;
  }
  return { header: data.subarray(0, 24), records, spanSec: last - first + 1, linktype };
}

function ipv4Offset(frame: Buffer, linktype: number): number {
  if (linktype !== LINK_ETHERNET) return frame.length > 0 && frame[0] >> 4 === 4 ? 0 : -1;
  let at = 12;
  let type = frame.length >= 14 ? frame.readUInt16BE(12) : 0;
  while ((type === 0x8100 || type === 0x88a8) && frame.length >= at + 6) {
    at += 4;
    type = frame.readUInt16BE(at);
  }
  return type === 0x0800 ? at + 2 : -1;
}

/** Writes `copies` copies to `out`, respecting its back-pressure. */
export async function replicate(file: string, copies: number, out: Writable): Promise<void> {
  const { header, records, spanSec, linktype } = pcapRecords(file);
  const write = (b: Buffer) => (out.write(b) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write(Buffer.from(header));
  for (let copy = 0; copy < copies; copy++) {
    const chunk: Buffer[] = [];
    for (const rec of records) {
      const r = Buffer.from(rec);
      r.writeUInt32LE(rec.readUInt32LE(0) + copy * (spanSec + 200), 0);
      const ip = ipv4Offset(r.subarray(16), linktype);
      if (ip >= 0 && r.length >= 16 + ip + 20) {
        for (const a of [16 + ip + 12, 16 + ip + 16]) r.writeUInt16BE(r.readUInt16BE(a) ^ (copy & 0xffff), a);
      }
      chunk.push(r);
    }
    await write(Buffer.concat(chunk));
  }
  await new Promise<void>((resolve) => out.end(resolve));
}
