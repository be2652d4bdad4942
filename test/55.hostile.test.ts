/**
 * Hostile captures and hostile places to write: each ends without a crash or a hang, says on
 * stderr what the user should know, counts ignored packets by reason, and keeps every good flow.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { be16, DLT, ether, ipv4, pcap, tcp, tmpdir, u8, udp } from './helpers/packets';
import { BIN, RUN_LIMIT } from './helpers/run';

const dir = tmpdir();
const good = (i: number, t0 = 1) => ({ t: t0 + i * 0.01, frame: ipv4('10.1.0.1', '10.1.0.2', 17, udp(3000 + i, 53, Buffer.from('q'))) });
const GOOD = Array.from({ length: 5 }, (_, i) => good(i));

function read(name: string, bytes: Buffer, extra: string[] = []) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  const r = spawnSync(process.execPath, [BIN, 'read', file, '--jsonl', ...extra], { encoding: 'utf8', timeout: 60000 });
  const flows = r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => JSON.parse(l)) : [];
  return { status: r.status, signal: r.signal, stderr: r.stderr, flows };
}

/** A pcap whose record `at` has its caplen field set to `caplen` (the bytes that follow are `body`). */
function withRecord(caplen: number, body: Buffer, snaplen = 262144): Buffer {
  const head = pcap(DLT.RAW, GOOD, snaplen);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(2, 0);
  h.writeUInt32LE(caplen, 8);
  h.writeUInt32LE(caplen, 12);
  return Buffer.concat([head, h, body]);
}

t.test('record longer than 256 KiB: the flows before it, a message, exit 1', async (t) => {
  const r = read('huge-record.pcap', withRecord(300000, Buffer.alloc(300000, 0x45)));
  t.equal(r.signal, null, 'no crash');
  t.equal(r.status, 1);
  t.equal(r.flows.length, 5, 'the five good flows');
  t.match(r.stderr, /huge-record\.pcap: .*(larger|length|big)/i, 'says the record is too long');
});

t.test('record longer than the file snaplen: read (libpcap allows up to its maximum) or refused with a message', async (t) => {
  const frame = ipv4('10.2.0.1', '10.2.0.2', 17, udp(1, 2, Buffer.alloc(150)));
  const r = read('over-snaplen.pcap', withRecord(frame.length, frame, 100));
  t.equal(r.signal, null, 'no crash');
  t.ok(r.flows.length >= 5, 'the good flows');
  if (r.status !== 0) t.match(r.stderr, /over-snaplen\.pcap:/, 'a refusal names the file');
});

t.test('zero-length records: counted as short frames, the rest kept', async (t) => {
  const recs = [...GOOD.slice(0, 2), { t: 1.5, frame: Buffer.alloc(0) }, { t: 1.6, frame: Buffer.alloc(0) }, ...GOOD.slice(2).map((g) => ({ ...g, t: g.t + 1 }))];
  const r = read('zero.pcap', pcap(DLT.RAW, recs));
  t.equal(r.status, 0);
  t.equal(r.flows.length, 5);
  t.match(r.stderr, /2 ignored: 2 short_frame/);
});

t.test('wrong magic: not a capture file, exit 1, nothing written', async (t) => {
  const bytes = pcap(DLT.RAW, GOOD);
  bytes.writeUInt32LE(0xdeadbeef, 0);
  const r = read('magic.pcap', bytes);
  t.equal(r.status, 1);
  t.match(r.stderr, /magic\.pcap: cannot read as a capture file/);
  t.equal(r.flows.length, 0);
});

t.test('pcapng with blocks of unknown types between packets: skipped, packets read', async (t) => {
  const block = (type: number, body: Buffer) => {
    const len = 12 + body.length;
    const b = Buffer.alloc(len);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    body.copy(b, 8);
    b.writeUInt32LE(len, len - 4);
    return b;
  };
  const shb = block(0x0a0d0d0a, Buffer.from([0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  const idb = block(1, Buffer.from([101, 0, 0, 0, 0, 0, 4, 0]));
  const epb = (i: number) => {
    const frame = good(i).frame;
    const pad = Buffer.alloc((4 - (frame.length % 4)) % 4);
    const body = Buffer.alloc(20);
    body.writeUInt32LE(0, 0);
    body.writeUInt32LE(0, 4);
    body.writeUInt32LE(1_000_000 + i * 10_000, 8);
    body.writeUInt32LE(frame.length, 12);
    body.writeUInt32LE(frame.length, 16);
    return block(6, Buffer.concat([body, frame, pad]));
  };
  const unknown = block(0x00000bad, Buffer.alloc(16, 0x77));
  const custom = block(0x40000bad, Buffer.alloc(8, 0x11));
  const r = read('unknown-blocks.pcapng', Buffer.concat([shb, idb, epb(0), unknown, epb(1), custom, epb(2)]));
  t.equal(r.status, 0, r.stderr);
  t.equal(r.flows.length, 3, 'three packets, three flows');
});

t.test('a link type flowseek does not decode: a warning, packets counted as ignored', async (t) => {
  const r = read('linktype.pcap', pcap(147, GOOD));
  t.equal(r.status, 0);
  t.match(r.stderr, /link type .* is not decoded/);
  t.match(r.stderr, /5 ignored: 5 unsupported_linktype/);
});

t.test('timestamps going backwards: time is forced monotonic, durations never negative', async (t) => {
  const recs = [good(0, 100), good(1, 50), good(0, 20), good(2, 100.5)];
  const r = read('backwards.pcap', pcap(DLT.RAW, recs));
  t.equal(r.status, 0);
  t.ok(r.flows.every((f) => f.bidirectional_duration_ms >= 0 && f.bidirectional_first_seen_ms >= 100000), 'every time at or after the newest seen');
});

t.test('a time past 2038 in a classic pcap: the unsigned seconds the file holds', async (t) => {
  const r = read('y2038.pcap', pcap(DLT.RAW, [good(0, 3_000_000_000)]));
  t.equal(r.status, 0);
  t.equal(r.flows[0].bidirectional_first_seen_ms, 3_000_000_000_000, '2065-01-24, not a negative time wrapped to 2^64');
});

t.test('broken IPv4 and TCP headers: ignored by reason or metered without reading past the packet', async (t) => {
  const short = ipv4('10.3.0.1', '10.3.0.2', 6, tcp(1, 2), { ihl: 4 });
  const past = ipv4('10.3.0.1', '10.3.0.2', 6, tcp(1, 2), { ihl: 15 });
  const offset = ipv4('10.3.0.1', '10.3.0.2', 6, Buffer.from(tcp(5, 6).map((b, i) => (i === 12 ? 0xf0 : b))));
  const r = read('headers.pcap', pcap(DLT.RAW, [...GOOD, { t: 2, frame: short }, { t: 2.1, frame: past }, { t: 2.2, frame: offset }]));
  t.equal(r.status, 0);
  t.match(r.stderr, /\(1 ignored: 1 ipv4_header\)/, 'IHL past the end of the packet: ipv4_header');
  // IHL below 5 is read as NFStream reads it (transport inside the 20 bytes); the TCP data offset
  // past the end leaves the payload empty: both metered, nothing read beyond the packet (ASan test)
  t.equal(r.flows.length, 7, 'the five good flows, and the two NFStream meters too');
});

t.test('tunnels inside tunnels: decoded to a depth, then ignored as too deep', async (t) => {
  const gtpOf = (inner: Buffer) => ipv4('192.0.2.1', '192.0.2.2', 17, udp(2152, 2152, u8([0x30, 0xff, ...be16(inner.length), 0, 0, 0, 1], inner)));
  const vxlanOf = (inner: Buffer) => ipv4('192.0.2.3', '192.0.2.4', 17, udp(40000, 4789, u8([0x08, 0, 0, 0, 0, 0, 1, 0], ether(0x0800, inner))));
  const greOf = (inner: Buffer) => ipv4('192.0.2.5', '192.0.2.6', 47, u8([0, 0, 0x08, 0x00], inner));
  const core = ipv4('10.5.0.1', '10.5.0.2', 6, tcp(4000, 443));
  const two = greOf(vxlanOf(core));                   // VXLAN in GRE: decoded, the inner flow
  let deep = core;
  for (let i = 0; i < 12; i++) deep = [gtpOf, vxlanOf, greOf][i % 3](deep);
  const r = read('nested-tunnels.pcap', pcap(DLT.RAW, [{ t: 1, frame: two }, { t: 2, frame: deep }]));
  t.equal(r.status, 0);
  t.equal(r.flows.length, 1);
  t.equal(r.flows[0].src_ip, '10.5.0.1', 'two tunnels deep: the innermost flow');
  t.match(r.stderr, /1 ignored: 1 too_deep/, 'twelve tunnels deep: ignored as too deep');
});

t.test('1 million distinct flows: --max-active-flows bounds memory, early ends are counted', async (t) => {
  const n = 1_000_000;
  const file = path.join(dir, 'million.pcap');
  const out = fs.openSync(file, 'w');
  const head = pcap(DLT.RAW, []);
  fs.writeSync(out, head);
  const frame = ipv4('10.0.0.1', '10.128.0.1', 17, udp(1, 2));
  const chunk = Buffer.alloc(10000 * (16 + frame.length));
  for (let base = 0; base < n; base += 10000) {
    for (let k = 0; k < 10000; k++) {
      const i = base + k;
      const at = k * (16 + frame.length);
      chunk.writeUInt32LE(1000, at);
      chunk.writeUInt32LE(i % 1000000, at + 4);
      chunk.writeUInt32LE(frame.length, at + 8);
      chunk.writeUInt32LE(frame.length, at + 12);
      frame.copy(chunk, at + 16);
      chunk.writeUInt32BE(0x0a000000 + i, at + 16 + 12); // a distinct source address each
    }
    fs.writeSync(out, chunk);
  }
  fs.closeSync(out);
  const run = (limit: string) => spawnSync(process.execPath, [BIN, 'read', file, '--csv', '-o', '/dev/null', '--dissections', '0', '--max-active-flows', limit],
    { encoding: 'utf8', timeout: 120000 });
  const bounded = run('10000');
  t.equal(bounded.status, 0, bounded.stderr);
  t.match(bounded.stderr, new RegExp(`^flowseek: ${n} flows from ${n} packets`, 'm'));
  t.match(bounded.stderr, /990000 flows ended early \(expiration_id 2\)/);
  const unbounded = run('0');
  const peak = (s: string) => Number(/peak memory (\d+) MB/.exec(s)?.[1]);
  t.ok(peak(bounded.stderr) + 200 < peak(unbounded.stderr),
    `peak memory ${peak(bounded.stderr)} MB with 10,000 open flows at most, ${peak(unbounded.stderr)} MB with all open`);
  fs.rmSync(file);
});

t.test('hostile outputs: a full disk, a full device, a directory, a read-only folder', async (t) => {
  const sample = path.join(dir, 'many.pcap');
  fs.writeFileSync(sample, pcap(DLT.EN10MB, Array.from({ length: 3000 }, (_, i) =>
    ({ t: 1 + i / 1000, frame: ether(0x0800, ipv4('10.4.0.1', '10.4.0.2', 17, udp(i % 60000 + 1, 53))) }))));
  const full = spawnSync(process.execPath, [BIN, 'read', sample, '--csv', '-o', '/dev/full'], { ...RUN_LIMIT, encoding: 'utf8' });
  t.equal(full.status, 1);
  t.match(full.stderr, /cannot write \/dev\/full: no space left on the device/);
  const mounts: string[] = [];
  t.teardown(() => { for (const m of mounts) spawnSync('umount', [m]); });
  const small = path.join(dir, 'small-disk');
  const ro = path.join(dir, 'read-only');
  fs.mkdirSync(small);
  fs.mkdirSync(ro);
  const canMount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=32k', 'none', small]).status === 0;
  if (!canMount) {
    t.comment('small tmpfs and read-only mounts need root: those cases are not tested here');
    return;
  }
  mounts.push(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=32k', 'none', ro]);
  mounts.push(ro);
  for (const fmt of ['flows.csv', 'flows.parquet']) {
    const r = spawnSync(process.execPath, [BIN, 'read', sample, '-o', path.join(small, fmt), '--stats', '--splt', '10'], { ...RUN_LIMIT, encoding: 'utf8' });
    t.equal(r.status, 1, `${fmt} on a full disk: exit 1`);
    t.match(r.stderr, /no space left on the device/);
    t.same(fs.readdirSync(small), [], `${fmt}: no file left, final or temporary`);
  }
  const rr = spawnSync(process.execPath, [BIN, 'read', sample, '-o', path.join(ro, 'flows.csv')], { ...RUN_LIMIT, encoding: 'utf8' });
  t.equal(rr.status, 1);
  t.match(rr.stderr, /read-only file system/);
  const dirOut = spawnSync(process.execPath, [BIN, 'read', sample, '--parquet', '-o', dir], { ...RUN_LIMIT, encoding: 'utf8' });
  t.equal(dirOut.status, 1);
  t.match(dirOut.stderr, /is a directory/);
});
