/**
 * read --workers N without plugins: N meters over the files, each reading them itself, or fed by
 * one reader where the input can be read once (native/spread.c). The flows must be one meter's,
 * as sets (ids aside), whatever the capture: classic pcap (records read directly) or pcapng
 * (through libpcap), one file or many, a filter, an early stop; and so must the files of every
 * format, whose bytes the lanes make on their own threads.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { tableFromIPC } from 'apache-arrow';
import { parseMeterOptions, RawReadOptions } from '../src/options';
import { FlowStreamer, StreamerOptions } from '../src/streamer';
import { LaneSet } from '../src/workers/lanes';
import { norm, rows } from './helpers/arrow';
import { DLT, ether, frag6, ipv4, ipv6, tcp, udp, writePcap } from './helpers/packets';
import { udpBurst } from './helpers/packets';
import { lit, query } from './helpers/duckdb';
import { BIN, cli, NO_ORACLE, ORACLE, RUN_LIMIT, sortedRows } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');
const ALL = NO_ORACLE ? [] : fs.readdirSync(PCAPS).sort().map((n) => path.join(PCAPS, n));


const options = (files: string[], raw: RawReadOptions = {}): StreamerOptions => ({ ...parseMeterOptions({ stats: true, splt: '5', ...raw }), files });

t.test('every oracle capture: two lanes, the flows of one meter', { skip: NO_ORACLE }, async (t) => {
  let flows = 0;
  const differing: string[] = [];
  for (const file of ALL) {
    const one = await sortedRows(new FlowStreamer(options([file])));
    const two = await sortedRows(new LaneSet(options([file]), 2));
    flows += one.length;
    if (JSON.stringify(one) !== JSON.stringify(two)) differing.push(`${path.basename(file)} (${one.length} vs ${two.length})`);
  }
  t.same(differing, [], `${flows} flows compared field by field, ${ALL.length} captures`);
  t.ok(flows > 2300, 'the whole oracle folder');
});

// Read in time order (as every run now reads files), whatsapp_voice_and_message.pcap comes just
// before wa_voice.pcap, and one meter's nDPI then labels a wa_voice flow STUN.WhatsAppCall from a
// cache entry (one host, another peer) that lanes keep on another meter: a limit of lanes, not of
// this test's subject, so that one capture stays out of the one-run comparison.
const ONE_RUN = ALL.filter((f) => path.basename(f) !== 'wa_voice.pcap');

t.test('all captures in one run (pcap and pcapng, file after file), three lanes', { skip: NO_ORACLE }, async (t) => {
  const one = await sortedRows(new FlowStreamer(options(ONE_RUN)));
  const three = await sortedRows(new LaneSet(options(ONE_RUN), 3));
  t.equal(three.length, one.length, `${one.length} flows`);
  t.same(three, one, 'every flow equal');
  for (const threads of [true, false]) {
    const lanes = new LaneSet(options(ONE_RUN), 3, threads);
    t.equal(lanes.threads, threads);
    t.same(await sortedRows(lanes), one, `every flow equal, lanes ${threads ? 'on threads of their own' : 'on the pool'}`);
  }
  // lanes fed by a reader, as a FIFO's are
  process.env.FLOWSEEK_SPREAD = 'reader';
  try {
    t.same(await sortedRows(new LaneSet(options(ONE_RUN), 3)), one, 'every flow equal, lanes fed by a reader');
  } finally {
    delete process.env.FLOWSEEK_SPREAD;
  }
  const lanes = new LaneSet(options(ONE_RUN), 3);
  await sortedRows(lanes);
  const single = new FlowStreamer(options(ONE_RUN));
  await sortedRows(single);
  const [a, b] = [lanes.stats(), single.stats()];
  for (const k of ['packets', 'processed', 'ignored', 'flowsExported', 'bytesRead', 'readErrors', 'oversizeRecords'] as const) {
    t.equal(a[k], b?.[k], `${k}: ${a[k]}`);
  }
  t.same(a.ignoredBy, Object.fromEntries(Object.entries(b?.ignoredBy ?? {}).filter(([k]) => k !== 'other_partition')), 'ignored, by reason');
});

t.test('a BPF filter, a snaplen and other timeouts: the same flows', { skip: NO_ORACLE }, async (t) => {
  const raw: RawReadOptions = { bpf: 'tcp or udp port 53', snaplen: '200', idleTimeout: '5', activeTimeout: '20' };
  const files = ALL.filter((_, i) => i % 4 === 0);
  const one = await sortedRows(new FlowStreamer(options(files, raw)));
  t.ok(one.length > 100, `${one.length} flows`);
  t.same(await sortedRows(new LaneSet(options(files, raw), 2)), one, 'two lanes');
  t.same(await sortedRows(new LaneSet(options(files, raw), 5)), one, 'five lanes (some with hardly a flow)');
});

// The reader takes most frames' lane from their headers alone (native/host_pair.c) and hands them
// on undecoded: a frame its lane's decode then refuses must still be counted, once, under its reason;
// a frame that may enter a tunnel (a GTP-U port, IP in IP) is decoded by the reader and goes by
// its inner hosts. Crafted frames of each kind, between many host pairs so that every lane has some.
t.test('frames the reader hands on undecoded: refused by their lane, counted as one meter counts them', async (t) => {
  const frames: Buffer[] = [];
  // frames one meter refuses, timed a day later: they must not move the run's clock (they did in
  // lanes, whose reader took their lane from their headers: the flows after them were split)
  const late = new Set<number>();
  const refused = (frame: Buffer) => { late.add(frames.length); frames.push(frame); };
  for (let h = 1; h <= 40; h++) {
    const a = `10.1.0.${h}`, b = `10.2.0.${h}`;
    frames.push(ether(0x0800, ipv4(a, b, 6, tcp(1000 + h, 80))));
    frames.push(ether(0x0800, ipv4(b, a, 6, tcp(80, 1000 + h))));
    refused(ether(0x0800, ipv4(a, b, 6, tcp(1000 + h, 80), { fragOffset: 8 }))); // a fragment: refused
    refused(ether(0x0800, ipv4(a, b, 6, tcp(1000 + h, 80), { totalLength: 12 }))); // length below the header
    // tunnels: each inner flow's two packets come by two outer host pairs, and must meet in one lane
    for (const [x, y] of [[a, b], [`10.3.${h}.1`, `10.4.${h}.1`]]) {
      frames.push(ether(0x0800, ipv4(x, y, 17, udp(2152, 2152, Buffer.from([0x30, 0xff, 0, 24, 0, 0, 0, 1,
        ...ipv4(`172.16.0.${h}`, '172.17.0.1', 17, udp(5000, 53, Buffer.alloc(4)))]))))); // GTP-U
      frames.push(ether(0x0800, ipv4(x, y, 4, ipv4(`192.0.2.${h}`, '198.51.100.1', 6, tcp(7, 7))))); // IP in IP
    }
    const v6a = `2001:db8::${h.toString(16)}`, v6b = '2001:db8:1::1';
    frames.push(ether(0x86dd, ipv6(v6a, v6b, 6, tcp(2000 + h, 443))));
    refused(ether(0x86dd, ipv6(v6a, v6b, 17, udp(3000 + h, 53, Buffer.alloc(12))).subarray(0, 40 + 8))); // payload cut
    frames.push(ether(0x86dd, ipv6(v6a, v6b, 44, frag6(6, 0, true, tcp(2000 + h, 443))))); // an extension header
  }
  const file = writePcap('undecoded-by-reader.pcap', DLT.EN10MB, frames.map((frame, i) => ({ t: (late.has(i) ? 1700086400 : 1700000000) + i * 0.001, frame })));
  const single = new FlowStreamer(options([file]));
  const one = await sortedRows(single);
  const b = single.stats();
  t.equal(one.length, 160, 'four flows a host pair: TCP, GTP-U\'s inner one, IP in IP\'s inner one, IPv6 TCP');
  t.ok((b?.ignoredBy.fragment ?? 0) >= 40 && (b?.ignoredBy.ipv4_header ?? 0) >= 40 && (b?.ignoredBy.ipv6_header ?? 0) >= 40,
    `one meter refuses them: ${JSON.stringify(b?.ignoredBy)}`);
  for (const n of [2, 3]) {
    const lanes = new LaneSet(options([file]), n, false);
    t.same(await sortedRows(lanes), one, `${n} lanes: every flow equal`);
    const a = lanes.stats();
    for (const k of ['packets', 'processed', 'ignored'] as const) t.equal(a[k], b?.[k], `${n} lanes, ${k}: ${a[k]}`);
    t.same(a.ignoredBy, Object.fromEntries(Object.entries(b?.ignoredBy ?? {}).filter(([k]) => k !== 'other_partition')), `${n} lanes: ignored, by reason`);
  }
});

t.test('stopped early, or left by its consumer: ends, with every flow it had', { skip: NO_ORACLE }, async (t) => {
  // the oracle's captures 100 times over, read again each time at their last time: no flow ends
  // before the input does, so the stop comes from a timer, 150 ms in (the whole read takes seconds)
  const files = Array.from({ length: 100 }, () => ALL).flat();
  const lanes = new LaneSet(options(files), 2);
  let seen = 0;
  const timer = setTimeout(() => lanes.stop(), 150);
  for await (const b of lanes.batches()) seen += b.length;
  clearTimeout(timer);
  const s = lanes.stats();
  t.equal(seen, s.flowsExported, `${seen} flows yielded, as counted`);
  t.equal(s.flowsCreated, s.flowsExported, 'every flow created was flushed');
  t.ok(s.packets < 100 * 84_000, `the reading stopped early (${s.packets} packets read of 8,402,800)`);
  // lanes reading the files each stop at the same frame: none is counted read that its lane did not meter
  t.equal(s.packets, s.processed + s.ignored, `every packet counted was metered (${s.processed}) or refused (${s.ignored})`);
  const left = new LaneSet(options(files), 3);
  let batches = 0;
  for await (const _ of left.batches()) if (++batches === 2) break;
  t.equal(batches, 2, 'a consumer that leaves after two batches: the run ends and frees its lanes');
});

// The lanes once woke a reader waiting for room whenever their own (lagging) look at the ring
// said it was half empty: it found no room and slept again, tens of thousands of times a read,
// a quarter of the CPU of two lanes. Timing is not tested; the needless wake-ups are counted.
t.test('the reader sleeps only when a ring is full, and wakes to room', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-lanes-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'many-packets.pcap');
  // 400,000 packets a millisecond apart over 100,000 host pairs (a flow each): the lanes, which make
  // the flows, fall behind the reader, which copies frames
  fs.writeFileSync(file, udpBurst(400_000, { start: 1_600_000_000, stepUs: 1000, sources: 100_000, payload: 40 }));
  // a reader, as a FIFO's lanes have, though they read a file (each would read it itself)
  process.env.FLOWSEEK_SPREAD = 'reader';
  t.teardown(() => { delete process.env.FLOWSEEK_SPREAD; });
  for (const threads of [false, true]) {
    const lanes = new LaneSet(options([file]), 2, threads);
    const flows = (await sortedRows(lanes)).length;
    const w = lanes.readerWaits;
    t.equal(flows, 100_000, `lanes ${threads ? 'on threads' : 'on the pool'}: every flow`);
    t.ok(w && w.sleeps > 0, `the reader waited for room ${w?.sleeps} times (400,000 packets, rings of 131,072)`);
    t.ok(w && w.needless <= 2 + w.sleeps / 20, `and woke to none ${w?.needless} times`);
  }
});

// A lane on the pool was given its next step only when the writer asked for the next batch: while
// the writer encoded a burst (a Parquet page of every column), both lanes stood idle. They now run
// ahead of it, by a bounded number of batches.
t.test('lanes on the pool meter on while the writer holds a batch, and only so far', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-lanes-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'flows-ending.pcap');
  // 40,000 single-packet flows 50 ms apart: each ends by idle timeout while the file is read
  fs.writeFileSync(file, udpBurst(40_000, { start: 1_600_000_000, stepUs: 50_000, sources: 40_000, payload: 8 }));
  const batchSize = 64;
  const lanes = new LaneSet({ ...options([file]), batchSize }, 2, false);
  const made = () => (lanes.counters().perWorker ?? []).reduce((n, s) => n + (s?.flowsExported ?? 0), 0);
  let seen = 0;
  let held = false;
  let most = 0;
  for await (const b of lanes.batches()) {
    seen += b.length;
    if (held) continue;
    // the writer holds its first batch: the lanes go on
    for (const start = Date.now(); Date.now() - start < 10_000 && made() < seen + 20 * batchSize;) await new Promise((r) => setTimeout(r, 20));
    held = true;
    await new Promise((r) => setTimeout(r, 200));
    most = made() - seen;
  }
  t.ok(most >= 20 * batchSize, `${most} flows made while one batch was held`);
  t.ok(most <= 2 * (8192 / batchSize + 1) * batchSize, 'and no more than each lane may run ahead');
  t.equal(seen, 40_000, 'every flow, once');
});

// More lanes than the cores the process may use add no speed: the run says so, in words that fit
// one core (taskset -c 0) as well as several.
t.test('more lanes than cores: one warning line', async (t) => {
  const sample = path.join(__dirname, '..', '..', 'samples', 'sample.pcap');
  const one = spawnSync('taskset', ['-c', '0', process.execPath, BIN, 'read', sample, '--workers', '2', '--csv'],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  t.equal(one.status, 0, one.stderr);
  t.match(one.stderr, /^flowseek: warning: --workers 2: more lanes than the one core this process may use; lanes beyond that share it and add no speed\n/);
  const cores = os.availableParallelism();
  const many = cli(['read', sample, '--workers', String(cores + 1), '--csv']);
  t.equal(many.status, 0, many.stderr);
  t.match(many.stderr, new RegExp(`^flowseek: warning: --workers ${cores + 1}: more lanes than the ${cores === 1 ? 'one core' : `${cores} cores`} this process may use`));
  const fits = cli(['read', sample, '--workers', String(Math.min(cores, 2)), '--csv']);
  t.notMatch(fits.stderr, /more lanes than/, 'as many lanes as cores: no warning');
});

t.test('the command line', { skip: NO_ORACLE }, async (t) => {
  const file = path.join(PCAPS, 'ftp.pcap');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-lanes-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const r1 = cli(['read', ...ALL.slice(0, 40), '--csv', '-o', path.join(tmp, '1.csv')]);
  const r2 = cli(['read', ...ALL.slice(0, 40), '--workers', '2', '--csv', '-o', path.join(tmp, '2.csv')]);
  t.equal(r2.status, 0, r2.stderr);
  const summary = (s: string) => /(\d+ flows from \d+ packets.*?) in 40 files/.exec(s)?.[1];
  t.ok(summary(r1.stderr), 'one meter: a summary');
  t.equal(summary(r2.stderr), summary(r1.stderr), `the same summary: ${summary(r2.stderr)}`);
  const body = (f: string) => fs.readFileSync(path.join(tmp, f), 'utf8').trim().split('\n').slice(1).map((l) => l.slice(l.indexOf(','))).sort();
  t.same(body('2.csv'), body('1.csv'), 'the same rows');
  const max = cli(['read', ...ALL.slice(0, 40), '--workers', '3', '--max-flows', '25', '--csv']);
  t.equal(max.status, 0);
  t.equal(max.stdout.trim().split('\n').length, 26, '--max-flows 25: 25 rows and the header');
  const missing = cli(['read', file, path.join(tmp, 'nothing.pcap'), '--workers', '2', '--csv']);
  t.equal(missing.status, 1, 'a missing file: exit 1');
  t.match(missing.stderr, /nothing\.pcap: no such file/);
  const cut = path.join(tmp, 'cut.pcap');
  const whole = fs.readFileSync(path.join(PCAPS, 'google_ssl.pcap'));
  fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const c1 = cli(['read', cut, '--csv']);
  const c2 = cli(['read', cut, '--workers', '2', '--csv']);
  t.equal(c2.status, c1.status, `a capture cut short: exit ${c1.status}, as one meter`);
  t.match(c2.stderr, /truncated dump file/, 'the file is named as cut short');
  t.equal(c2.stdout.trim().split('\n').length, c1.stdout.trim().split('\n').length, 'and the flows before the cut are kept');
});

/** Rows as sorted JSON with the ids aside, and the ids in file order. */
function split(header: string[], rows: unknown[][]): { rows: string[]; ids: number[] } {
  const at = header.indexOf('id');
  return {
    rows: rows.map((r) => JSON.stringify(r.filter((_, i) => i !== at), (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort(),
    ids: rows.map((r) => Number(r[at])),
  };
}

async function readBack(file: string, format: string): Promise<{ header: string[]; rows: unknown[][] }> {
  const text = () => fs.readFileSync(file, 'utf8').trim().split('\n');
  if (format === 'csv') {
    const [head, ...lines] = text();
    return { header: head.split(','), rows: lines.map((l) => [l.slice(0, l.indexOf(',')), l.slice(l.indexOf(',') + 1)]) };
  }
  if (format === 'jsonl') {
    const objects = text().map((l) => JSON.parse(l) as Record<string, unknown>);
    return { header: Object.keys(objects[0]), rows: objects.map((o) => Object.values(o)) };
  }
  if (format === 'arrow') {
    const table = tableFromIPC(fs.readFileSync(file));
    return { header: table.schema.fields.map((f) => `${f.name}:${f.type}`.replace(/^id:.*/, 'id')), rows: rows(table) };
  }
  const schema = await query(`select name, type, logical_type from parquet_schema(${lit(file)})`);
  const table = await query(`select * from read_parquet(${lit(file)})`);
  return { header: [...table.names.map((n) => n), JSON.stringify(schema.rows.map(String))], rows: table.rows.map((r) => r.map(norm)) };
}

t.test('every output format with --workers 2: the bytes lanes make are one meter\'s flows', { skip: NO_ORACLE }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-lanes-out-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const files = ALL.slice(0, 40);
  const opts = ['--stats', '--splt', '5', '--payload-bytes', '8', '--header-bytes', '2', '--community-id', '--time-precision', 'us', '-q'];
  // lanes on threads of their own, which make the file's bytes; and for CSV and JSON Lines, lanes
  // on the pool, whose rows are made in C after each step (a machine of few cores picks the pool)
  const runs = [...['csv', 'jsonl', 'parquet', 'arrow'].map((f) => [f, 'threads']), ['csv', 'inline'], ['jsonl', 'inline']];
  for (const [format, lanes] of runs) {
    const one = path.join(tmp, `1.${format}`), two = path.join(tmp, `2.${lanes}.${format}`);
    const r1 = cli(['read', ...files, ...opts, '-o', one]);
    const r2 = spawnSync(process.execPath, [BIN, 'read', ...files, ...opts, '--workers', '2', '-o', two],
      { ...RUN_LIMIT, encoding: 'utf8', env: { ...process.env, FLOWSEEK_LANES: lanes } });
    const what = `${format}, lanes ${lanes === 'threads' ? 'on threads' : 'on the pool'}`;
    t.equal(r1.status, 0, `${format}, one meter: exit 0 ${r1.status ? r1.stderr : ''}`);
    t.equal(r2.status, 0, `${what}: exit 0 ${r2.status ? r2.stderr : ''}`);
    const [a, b] = [await readBack(one, format), await readBack(two, format)];
    t.same(b.header, a.header, `${what}: the same columns and types`);
    const [x, y] = [split(a.header, a.rows), split(b.header, b.rows)];
    t.ok(x.rows.length > 400, `${what}: ${x.rows.length} flows`);
    t.same(y.rows, x.rows, `${what}: every flow equal, ids aside`);
    t.same([...y.ids].sort((p, q) => p - q), x.ids, `${what}: ids 0 to ${x.ids.length - 1}, each once`);
    if (format !== 'parquet') t.same(y.ids, x.ids, `${what}: written in id order`);
  }
  // standard output: the Arrow stream format, the CSV header once
  const threads = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { ...RUN_LIMIT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, FLOWSEEK_LANES: 'threads' } });
  const csv = threads(['read', ...files, '--workers', '2', '--csv', '-q']);
  t.equal(csv.stdout.split('\n').filter((l) => l.startsWith('id,')).length, 1, 'CSV on standard output: one header');
  const max = threads(['read', ...files, '--workers', '2', '--jsonl', '--max-flows', '100', '-q']);
  const ids = max.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id);
  t.same(ids, Array.from({ length: 100 }, (_, i) => i), '--max-flows 100 as JSON Lines: ids 0 to 99 in order');
  const pool = spawnSync(process.execPath, [BIN, 'read', ...files, '--workers', '3', '--jsonl', '--max-flows', '100', '-q'],
    { ...RUN_LIMIT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, FLOWSEEK_LANES: 'inline' } });
  const poolIds = pool.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id);
  t.same(poolIds, Array.from({ length: 100 }, (_, i) => i), '--max-flows 100, three lanes on the pool: ids 0 to 99 in order');
});
