/**
 * IPFIX (RFC 7011) messages for finished flows: one template per address family, biflow records
 * with the reverse direction's counters as RFC 5103 reverse elements, information elements from
 * IANA's registry (RFC 7012). Encoded by hand into bytes: nothing here opens a socket.
 */
import { ipBytes } from '../ip';
import { FlowBatch } from '../flow-batch';

/** RFC 5103's private enterprise number for reverse information elements. */
const REVERSE_PEN = 29305;
const VARIABLE = 0xffff;
export const TEMPLATE_V4 = 256;
export const TEMPLATE_V6 = 257;

interface Element { id: number; length: number; pen?: number; column: string }

/** Flow fields in record order; `column` is the flowseek column the value comes from. */
function elements(v6: boolean, withApp: boolean): Element[] {
  return [
    { id: v6 ? 27 : 8, length: v6 ? 16 : 4, column: 'src_ip' }, // sourceIPv6Address / sourceIPv4Address
    { id: v6 ? 28 : 12, length: v6 ? 16 : 4, column: 'dst_ip' }, // destination...Address
    { id: 7, length: 2, column: 'src_port' }, // sourceTransportPort
    { id: 11, length: 2, column: 'dst_port' }, // destinationTransportPort
    { id: 4, length: 1, column: 'protocol' }, // protocolIdentifier
    { id: 58, length: 2, column: 'vlan_id' }, // vlanId
    { id: 152, length: 8, column: 'bidirectional_first_seen_ms' }, // flowStartMilliseconds
    { id: 153, length: 8, column: 'bidirectional_last_seen_ms' }, // flowEndMilliseconds
    { id: 85, length: 8, column: 'src2dst_bytes' }, // octetTotalCount
    { id: 86, length: 8, column: 'src2dst_packets' }, // packetTotalCount
    { id: 85, length: 8, pen: REVERSE_PEN, column: 'dst2src_bytes' }, // reverseOctetTotalCount
    { id: 86, length: 8, pen: REVERSE_PEN, column: 'dst2src_packets' }, // reversePacketTotalCount
    { id: 136, length: 1, column: 'expiration_id' }, // flowEndReason
    ...(withApp ? [{ id: 96, length: VARIABLE, column: 'application_name' }] : []), // applicationName
  ];
}

/** flowseek's expiration_id to flowEndReason: idle 1, active 2, lack of resources 4, forced end 5. */
const END_REASON: Record<number, number> = { 0: 1, 1: 2, 2: 4, [-1]: 5 };

export interface Template { id: number; elements: Element[]; columns: number[] }

export function templates(fieldNames: readonly string[]): Template[] {
  const withApp = fieldNames.includes('application_name');
  return [TEMPLATE_V4, TEMPLATE_V6].map((id) => {
    const els = elements(id === TEMPLATE_V6, withApp);
    const columns = els.map((e) => fieldNames.indexOf(e.column));
    const missing = els.filter((_, i) => columns[i] < 0).map((e) => e.column);
    if (missing.length) throw new Error(`IPFIX needs the columns ${missing.join(', ')}`);
    return { id, elements: els, columns };
  });
}

/** A Template Set (set id 2) holding the given templates. */
export function templateSet(list: Template[]): Buffer {
  const records = list.map((t) => {
    const b = Buffer.alloc(4 + t.elements.reduce((n, e) => n + (e.pen ? 8 : 4), 0));
    b.writeUInt16BE(t.id, 0);
    b.writeUInt16BE(t.elements.length, 2);
    let at = 4;
    for (const e of t.elements) {
      b.writeUInt16BE(e.pen ? e.id | 0x8000 : e.id, at);
      b.writeUInt16BE(e.length, at + 2);
      at += 4;
      if (e.pen) { b.writeUInt32BE(e.pen, at); at += 4; }
    }
    return b;
  });
  return set(2, Buffer.concat(records));
}

export function set(id: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(4 + body.length, 2);
  return Buffer.concat([h, body]);
}

/** Row r of the batch as one data record of template t. */
export function dataRecord(t: Template, batch: FlowBatch, r: number): Buffer {
  const parts: Buffer[] = [];
  t.elements.forEach((e, i) => {
    const v = batch.value(t.columns[i], r);
    if (e.column === 'src_ip' || e.column === 'dst_ip') { parts.push(Buffer.from(ipBytes(v as string))); return; }
    if (e.length === VARIABLE) {
      const s = Buffer.from(String(v), 'utf8').subarray(0, 0xfffe);
      const len = s.length < 255 ? Buffer.from([s.length]) : Buffer.from([255, s.length >> 8, s.length & 0xff]);
      parts.push(len, s);
      return;
    }
    const n = e.column === 'expiration_id' ? END_REASON[v as number] ?? 0 : Number(v);
    const b = Buffer.alloc(e.length);
    if (e.length === 8) b.writeBigUInt64BE(BigInt(n));
    else b.writeUIntBE(n, 0, e.length);
    parts.push(b);
  });
  return Buffer.concat(parts);
}

export interface MessageHeader { exportTime: number; sequence: number; domain: number }

/** A message: the 16-byte header and its sets. */
export function message(h: MessageHeader, sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  const b = Buffer.alloc(16);
  b.writeUInt16BE(10, 0);
  b.writeUInt16BE(16 + body.length, 2);
  b.writeUInt32BE(h.exportTime >>> 0, 4);
  b.writeUInt32BE(h.sequence >>> 0, 8);
  b.writeUInt32BE(h.domain >>> 0, 12);
  return Buffer.concat([b, body]);
}
