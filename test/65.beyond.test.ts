/** Beyond NFStream: Community ID, payload and header bytes, finer timestamps, activity features.
 * Built packets with values worked out by hand, and tshark's view of oracle captures. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { DLT, ipv4, ipv6, pcap, tcp, TCP_SYN, tmpdir, u8, udp, writePcap } from './helpers/packets';
import { lit, query } from './helpers/duckdb';
import { cli, Flow, flows, NO_ORACLE, ORACLE } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');
const icmp = (type: number, code: number) => u8([type, code, 0, 0, 0, 0, 0, 0]);

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

t.test('Community ID: the specification\'s test vectors, seed 0 and seed 1', async (t) => {
  // [frame (raw IP), seed 0, seed 1], written by hand from the Community ID reference tests
  const vectors: [string, Buffer, string, string][] = [
    ['tcp', ipv4('128.232.110.120', '66.35.250.204', 6, tcp(34855, 80)), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', '1:3V71V58M3Ksw/yuFALMcW0LAHvc='],
    ['tcp reversed', ipv4('66.35.250.204', '128.232.110.120', 6, tcp(80, 34855)), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', '1:3V71V58M3Ksw/yuFALMcW0LAHvc='],
    ['tcp low port', ipv4('10.0.0.1', '10.0.0.2', 6, tcp(10, 11569)), '1:SXBGMX1lBOwhhoDrZynfROxnhnM=', '1:HmBRGR+fUyXF4t8WEtal7Y0gEAo='],
    ['udp', ipv4('192.168.1.52', '8.8.8.8', 17, udp(54585, 53)), '1:d/FP5EW3wiY1vCndhwleRRKHowQ=', '1:Q9We8WO3piVF8yEQBNJF4uiSVrI='],
    ['udp reversed', ipv4('8.8.8.8', '192.168.1.52', 17, udp(53, 54585)), '1:d/FP5EW3wiY1vCndhwleRRKHowQ=', '1:Q9We8WO3piVF8yEQBNJF4uiSVrI='],
    ['icmp echo', ipv4('192.168.0.89', '192.168.0.1', 1, icmp(8, 0)), '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
    ['icmp echo reply', ipv4('192.168.0.1', '192.168.0.89', 1, icmp(0, 8)), '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
    ['icmp one-way type 20', ipv4('192.168.0.89', '192.168.0.1', 1, icmp(20, 0)), '1:3o2RFccXzUgjl7zDpqmY7yJi8rI=', '1:lCXHHxavE1Vq3oX9NH5ladQg02o='],
    ['icmp one-way type 20 code 1', ipv4('192.168.0.89', '192.168.0.1', 1, icmp(20, 1)), '1:tz/fHIDUHs19NkixVVoOZywde+I=', '1:Ie3wmFyxiEyikbsbcO03d2nh+PM='],
    ['icmp reply, code ignored', ipv4('192.168.0.1', '192.168.0.89', 1, icmp(0, 20)), '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
    ['icmpv6 neighbor solicitation', ipv6('fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 58, icmp(135, 0)), '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY='],
    ['icmpv6 neighbor advertisement', ipv6('fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 58, icmp(136, 0)), '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY='],
    ['icmpv6 one-way', ipv6('3ffe:507:0:1:260:97ff:fe07:69ea', '3ffe:507:0:1:200:86ff:fe05:80da', 58, icmp(3, 0)), '1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=', '1:OlOWx9psIbBFi7lOCw/4MhlKR9M='],
    ['icmpv6 one-way, other way', ipv6('3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:507:0:1:260:97ff:fe07:69ea', 58, icmp(3, 0)), '1:/OGBt9BN1ofenrmSPWYicpij2Vc=', '1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE='],
    ['ip protocol 46, no ports', ipv4('10.1.24.4', '10.1.12.1', 46, Buffer.alloc(8)), '1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=', '1:BK3BVW3U2eemuwVQVN3zd/GULno='],
    ['ip protocol 46, other way', ipv4('10.1.12.1', '10.1.24.4', 46, Buffer.alloc(8)), '1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=', '1:BK3BVW3U2eemuwVQVN3zd/GULno='],
  ];
  for (const [what, frame, seed0, seed1] of vectors) {
    const file = writePcap(`cid-${what.replace(/\W+/g, '-')}.pcap`, DLT.RAW, [{ t: 1, frame }]);
    const [a] = await flows([file], { communityId: true });
    const [b] = await flows([file], { communityIdSeed: '1' });
    t.equal(a.community_id, seed0, `${what}, seed 0`);
    t.equal(b.community_id, seed1, `${what}, seed 1`);
  }
});

t.test('Community ID equals tshark\'s on oracle captures', { skip: NO_ORACLE }, async (t) => {
  const files = ['ftp.pcap', 'dhcp.pcap', 'http_ipv6.pcap', 'android.pcap', 'iphone.pcap', 'nintendo.pcap', 'quic_interop_V.pcapng', 'zoom.pcap'];
  let n = 0;
  const byProto: Record<number, number> = {};
  for (const name of files) {
    const file = path.join(PCAPS, name);
    const theirs = new Set(tshark(['-r', file, '--enable-protocol', 'communityid', '-T', 'fields', '-e', 'communityid'])
      .split(/[\n,]/).filter(Boolean));
    for (const f of await flows([file], { communityId: true, dissections: '0' })) {
      t.ok(theirs.has(f.community_id as string), `${name}: ${f.src_ip} ${f.dst_ip} proto ${f.protocol}: ${f.community_id}`);
      n++;
      byProto[f.protocol as number] = (byProto[f.protocol as number] ?? 0) + 1;
    }
  }
  t.ok(byProto[1] > 0 && byProto[58] > 0 && byProto[6] > 0 && byProto[17] > 0, `${n} flows, by protocol ${JSON.stringify(byProto)}`);
});

/** tshark's packets of a capture: normalised 5-tuple key and L4 payload hex, in capture order. */
function tsharkPayloads(file: string): Map<string, string> {
  const out = tshark(['-r', file, '-o', 'tcp.desegment_tcp_streams:FALSE', '-T', 'fields', '-E', 'separator=/t',
    '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.srcport', '-e', 'udp.srcport',
    '-e', 'tcp.dstport', '-e', 'udp.dstport', '-e', 'tcp.payload', '-e', 'udp.payload']);
  const by = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [s4, s6, d4, d6, ts, us, td, ud, tp, up] = line.split('\t');
    if (!(ts || us) || (s4 ?? '').includes(',')) continue; // not TCP/UDP, or a tunnel: two IP layers
    const k = key(ts ? 6 : 17, s4 || s6, Number(ts || us), d4 || d6, Number(td || ud));
    by.set(k, (by.get(k) ?? '') + (tp || up || ''));
  }
  return by;
}

const key = (proto: number, a: string, ap: number, b: string, bp: number) =>
  [proto, ...[`${a} ${ap}`, `${b} ${bp}`].sort()].join('|');

t.test('payload_bytes equals tshark\'s tcp.payload / udp.payload, in packet order', { skip: NO_ORACLE }, async (t) => {
  const N = 784;
  let compared = 0, full = 0;
  for (const name of ['ftp.pcap', 'http_ipv6.pcap', 'dhcp.pcap', 'dnscrypt-v1-and-resolver-pings.pcap']) {
    const file = path.join(PCAPS, name);
    const theirs = tsharkPayloads(file);
    const ours = await flows([file], { payloadBytes: String(N), dissections: '0' });
    const count = new Map<string, number>();
    const k = (f: Flow) => key(f.protocol as number, f.src_ip as string, f.src_port as number, f.dst_ip as string, f.dst_port as number);
    for (const f of ours) count.set(k(f), (count.get(k(f)) ?? 0) + 1);
    for (const f of ours) {
      if ((f.protocol !== 6 && f.protocol !== 17) || count.get(k(f)) !== 1) continue; // one flow per tuple
      const expected = (theirs.get(k(f)) ?? '').slice(0, 2 * N);
      const hex = f.payload_bytes as string;
      t.equal(hex.length, 2 * N, 'fixed width');
      t.equal(f.payload_bytes_len, expected.length / 2, `${name} ${k(f)}: length`);
      t.equal(hex.slice(0, expected.length), expected, `${name} ${k(f)}: bytes`);
      t.match(hex.slice(expected.length), /^0*$/, 'zero padding');
      compared++;
      if (expected.length === 2 * N) full++;
    }
  }
  t.ok(compared > 20 && full > 3, `${compared} flows compared, ${full} with all ${N} bytes`);
});

t.test('header_bytes: IP and transport headers with addresses, ports and checksums zeroed', async (t) => {
  const syn = ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1234, 80, TCP_SYN, Buffer.from('hello')));
  syn.writeUInt16BE(0xabcd, 10); // an IPv4 header checksum
  syn.writeUInt16BE(0x1234, 20 + 16); // a TCP checksum
  const reply = ipv6('2001:db8::2', '2001:db8::1', 17, udp(53, 5353, Buffer.from('x')));
  const file = writePcap('hdr.pcap', DLT.RAW, [{ t: 1, frame: syn }, { t: 2, frame: ipv6('2001:db8::1', '2001:db8::2', 17, udp(5353, 53)) }, { t: 3, frame: reply }]);
  const [tcpFlow, udpFlow] = await flows([file], { headerBytes: '3', headerWidth: '48', dissections: '0' });
  const rows = (f: Flow) => (f.header_bytes as string[]).map((h) => Buffer.from(h, 'hex'));
  const [r0, r1, r2] = rows(tcpFlow);
  t.equal(tcpFlow.header_bytes_packets, 1, 'one real row');
  t.equal(r0.length, 48, 'rows are --header-width wide');
  const want = Buffer.from(syn.subarray(0, 40));
  want.fill(0, 10, 20); // checksum, addresses
  want.fill(0, 20, 24); // ports
  want.fill(0, 36, 38); // TCP checksum
  t.same([...r0.subarray(0, 40)], [...want], 'IPv4 + TCP header, zeroed where it names the endpoints');
  t.ok(r0.subarray(40).every((b) => b === 0), 'no payload after the header: zero padding');
  t.ok(r1.every((b) => b === 0) && r2.every((b) => b === 0), 'missing packets are zero rows');
  t.equal(udpFlow.header_bytes_packets, 2);
  const [u0, u1] = rows(udpFlow);
  t.equal(u0[0] >> 4, 6, 'IPv6 header');
  t.ok(u0.subarray(8, 44).every((b) => b === 0), 'IPv6 addresses and UDP ports zeroed');
  t.ok(u0[46] === 0 && u0[47] === 0, 'UDP checksum zeroed');
  t.equal(u1.readUInt16BE(44), 9, 'UDP length kept (8 + 1 byte)');
  t.equal(u1[6], 17, 'next header kept');
});

t.test('--time-precision: microseconds and nanoseconds at the capture\'s precision', async (t) => {
  const a = ipv4('10.0.0.1', '10.0.0.2', 17, udp(1000, 2000)), b = ipv4('10.0.0.2', '10.0.0.1', 17, udp(2000, 1000));
  const records = [
    { t: 1700000000, ns: 123456789, frame: a },
    { t: 1700000000, ns: 123999999, frame: b },
    { t: 1700000001, ns: 5, frame: a },
  ];
  const nano = path.join(tmpdir(), 'nano.pcap');
  fs.writeFileSync(nano, pcap(DLT.RAW, records, 65535, true));
  const [ns] = await flows([nano], { timePrecision: 'ns' });
  t.equal(ns.bidirectional_first_seen_ns, 1700000000123456789n, 'exact beyond 2^53');
  t.equal(ns.bidirectional_last_seen_ns, 1700000001000000005n);
  t.equal(ns.bidirectional_duration_ns, 876543216n);
  t.equal(ns.dst2src_first_seen_ns, 1700000000123999999n);
  t.equal(ns.dst2src_duration_ns, 0n);
  t.equal(ns.bidirectional_first_seen_ms, 1700000000123, 'the millisecond fields stay as NFStream has them');
  const [us] = await flows([nano], { timePrecision: 'us' });
  t.equal(us.bidirectional_first_seen_us, 1700000000123456n);
  t.equal(us.src2dst_last_seen_us, 1700000001000000n);
  // the same packets in pcapng (if_tsresol 9), as editcap writes them
  const ng = path.join(tmpdir(), 'nano.pcapng');
  const r = spawnSync('editcap', ['-F', 'pcapng', nano, ng], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const [png] = await flows([ng], { timePrecision: 'ns' });
  t.equal(png.bidirectional_first_seen_ns, 1700000000123456789n, 'pcapng at nanosecond resolution');
  t.equal(png.bidirectional_last_seen_ns, 1700000001000000005n);
  // a microsecond file gives whole microseconds
  const [micro] = await flows([writePcap('micro.pcap', DLT.RAW, [{ t: 1700000000.654321, frame: a }])], { timePrecision: 'ns' });
  t.equal(micro.bidirectional_first_seen_ns, 1700000000654321000n);
  // every writer: exact in CSV and JSON Lines
  const out = cli(['read', nano, '--time-precision', 'ns', '--jsonl']);
  t.match(out.stdout, /"bidirectional_first_seen_ns":1700000000123456789,/);
  const csv = cli(['read', nano, '--time-precision', 'ns', '--csv']).stdout.split('\n');
  const col = csv[0].split(',').indexOf('bidirectional_last_seen_ns');
  t.equal(csv[1].split(',')[col], '1700000001000000005');
});

/** A pcapng of one section and one interface (microseconds, the default) holding raw IP frames
 * at these times in microseconds since 1970 (64 bits: a pcapng can say year 3000). */
function pcapngAt(frames: { us: bigint; frame: Buffer }[]): Buffer {
  const block = (type: number, body: Buffer) => {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    const head = Buffer.alloc(8);
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(len, 4);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(len, 0);
    return Buffer.concat([head, body, pad, tail]);
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(DLT.RAW, 0);
  idb.writeUInt32LE(65535, 4);
  const epbs = frames.map(({ us, frame }) => {
    const h = Buffer.alloc(20);
    h.writeUInt32LE(Number(us >> 32n), 4);
    h.writeUInt32LE(Number(us & 0xffffffffn), 8);
    h.writeUInt32LE(frame.length, 12);
    h.writeUInt32LE(frame.length, 16);
    return block(6, Buffer.concat([h, frame]));
  });
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...epbs]);
}

t.test('--time-precision ns past 2262: held at the largest int64, not wrapped into the past', async (t) => {
  const year3000 = 32503680000n * 1000000n; // 3000-01-01 in microseconds
  const file = path.join(tmpdir(), 'year3000.pcapng');
  const pkt = ipv4('10.0.0.1', '10.0.0.2', 17, udp(1000, 2000, Buffer.alloc(4)));
  fs.writeFileSync(file, pcapngAt([{ us: year3000, frame: pkt }, { us: year3000 + 1500n, frame: pkt }]));
  const [ns] = await flows([file], { timePrecision: 'ns' });
  t.equal(ns.bidirectional_first_seen_ns, 9223372036854775807n, 'the largest int64 (2262-04-11), not 14056935926290448384');
  t.equal(ns.bidirectional_last_seen_ns, 9223372036854775807n);
  t.equal(ns.bidirectional_first_seen_ms, 32503680000000, 'milliseconds exact');
  const [us] = await flows([file], { timePrecision: 'us' });
  t.equal(us.bidirectional_first_seen_us, year3000, 'microseconds exact');
  t.equal(us.bidirectional_duration_us, 1500n);
  const out = path.join(tmpdir(), 'year3000.parquet');
  t.equal(cli(['read', file, '--time-precision', 'ns', '-o', out, '-q']).status, 0);
  const r = await query(`select bidirectional_first_seen_ns::varchar, bidirectional_first_seen::varchar from read_parquet(${lit(out)})`);
  // DuckDB reads the largest int64 of a timestamp as infinity (it was 1830-11-23)
  t.same(r.rows[0], ['9223372036854775807', 'infinity'], 'Parquet: the largest int64, later than any time it can hold');
});

t.test('--activity-features: rates and active / idle periods by hand', async (t) => {
  // 40-byte packets at 0, 1, 2, 10, 10.5, 30 s, alternating directions; gap 5 s:
  // active periods 2 s (0-2) and 0.5 s (10-10.5); idle 8 s and 19.5 s; the last period (30-30) lasts 0
  const A = '10.0.0.1', B = '10.0.0.2';
  const pkt = (i: number) => (i % 2 === 0 ? ipv4(A, B, 17, udp(1000, 2000, Buffer.alloc(12))) : ipv4(B, A, 17, udp(2000, 1000, Buffer.alloc(12))));
  const times = [0, 1, 2, 10, 10.5, 30];
  const file = writePcap('activity.pcap', DLT.RAW, times.map((s, i) => ({ t: 100 + s, frame: pkt(i) })));
  const [f] = await flows([file], { activityFeatures: true, dissections: '0' });
  t.match(f, {
    bidirectional_bytes_per_s: 8, bidirectional_packets_per_s: 0.2, src2dst_bytes_per_s: 4, src2dst_packets_per_s: 0.1,
    dst2src_bytes_per_s: 4, dst2src_packets_per_s: 0.1,
    active_min_ms: 500, active_mean_ms: 1250, active_max_ms: 2000,
    idle_min_ms: 8000, idle_mean_ms: 13750, idle_max_ms: 19500,
  });
  t.ok(Math.abs((f.active_stddev_ms as number) - Math.sqrt(2 * 750 ** 2)) < 1e-9, 'active sample stddev');
  t.ok(Math.abs((f.idle_stddev_ms as number) - Math.sqrt(2 * 5750 ** 2)) < 1e-9, 'idle sample stddev');
  const [g] = await flows([file], { activityGap: '9', dissections: '0' });
  t.match(g, { active_min_ms: 10500, active_max_ms: 10500, idle_min_ms: 19500, idle_max_ms: 19500, active_stddev_ms: 0 },
    '--activity-gap 9: one active period, one idle');
  const [one] = await flows([writePcap('activity1.pcap', DLT.RAW, [{ t: 5, frame: pkt(0) }])], { activityFeatures: true });
  t.match(one, { bidirectional_bytes_per_s: 0, active_max_ms: 0, idle_max_ms: 0 }, 'a single packet: no rate, no period');
});

t.test('the new columns in every format, and bad values refused', { skip: NO_ORACLE }, async (t) => {
  const file = path.join(PCAPS, 'ftp.pcap');
  const args = ['read', file, '--community-id', '--payload-bytes', '32', '--header-bytes', '2', '--time-precision', 'ns', '--activity-features'];
  const jsonl = cli([...args, '--jsonl']).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const csv = cli([...args, '--csv']).stdout.trim().split('\n');
  t.equal(csv.length - 1, jsonl.length);
  const head = csv[0].split(',');
  for (const c of ['community_id', 'payload_bytes', 'payload_bytes_len', 'header_bytes', 'header_bytes_packets', 'bidirectional_first_seen_ns', 'active_mean_ms']) {
    t.ok(head.includes(c), `CSV has ${c}`);
    t.ok(c in jsonl[0], `JSON Lines has ${c}`);
  }
  for (const [flag, value] of [['--payload-bytes', '0'], ['--header-bytes', '300'], ['--time-precision', 's'], ['--community-id-seed', '70000'], ['--activity-gap', '-1']]) {
    const r = cli(['read', file, flag, value]);
    t.equal(r.status, 2, `${flag} ${value} refused`);
    t.match(r.stderr, flag.slice(2).split('-')[0]);
  }
  const r = cli(['read', file, '--header-width', '40']);
  t.equal(r.status, 2);
  t.match(r.stderr, /--header-width" goes with --header-bytes/);
});

t.test('Parquet: FIXED_LEN_BYTE_ARRAY bytes, LIST of them, exact nanosecond INT64, as DuckDB reads them', { skip: NO_ORACLE }, async (t) => {
  const files = ['ftp.pcap', 'http_ipv6.pcap', 'dhcp.pcap'].map((f) => path.join(PCAPS, f));
  const args = ['read', ...files, '--community-id', '--payload-bytes', '100', '--header-bytes', '3', '--header-width', '60',
    '--time-precision', 'ns', '--activity-features'];
  const pq = path.join(tmpdir(), 'beyond.parquet');
  t.equal(cli([...args, '-o', pq]).status, 0);
  const jsonl = cli([...args, '--jsonl']).stdout.trim().split('\n').map((l) => JSON.parse(l.replace(/_ns":(\d+)/g, '_ns":"$1"')));
  const table = await query(`select lower(hex(payload_bytes)), payload_bytes_len, list_transform(header_bytes, x -> lower(hex(x))),
    header_bytes_packets, cast(bidirectional_first_seen_ns as varchar), cast(dst2src_duration_ns as varchar), community_id,
    active_mean_ms, idle_max_ms, bidirectional_bytes_per_s from read_parquet(${lit(pq)}) order by id`);
  const types = await query(`select name, type, type_length from parquet_schema(${lit(pq)}) where name in ('payload_bytes', 'element')`);
  t.same(types.rows, [['payload_bytes', 'FIXED_LEN_BYTE_ARRAY', '100'], ['element', 'FIXED_LEN_BYTE_ARRAY', '60']]);
  t.equal(table.rows.length, jsonl.length);
  table.rows.forEach((row, i) => {
    const j = jsonl[i];
    t.same(row, [j.payload_bytes, j.payload_bytes_len, j.header_bytes, j.header_bytes_packets, j.bidirectional_first_seen_ns,
      j.dst2src_duration_ns, j.community_id, j.active_mean_ms, j.idle_max_ms, j.bidirectional_bytes_per_s], `flow ${i}`);
  });
});
