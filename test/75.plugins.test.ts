/** Plugins: the example in .ts, .js and .mjs; hooks seeing the flow as it stands at each
 * packet; a flow ended by a plugin; the shipped dhcp and mdns plugins against NFStream's facts and
 * tshark; plugins in workers; plugins that do not load or throw. */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { DLT, ipv4, tcp, TCP_ACK, tmpdir, udp, writePcap } from './helpers/packets';
import { BIN, cli, Flow, flows, NO_ORACLE, ORACLE } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');
const dir = path.join(tmpdir(), 'plugins');
fs.mkdirSync(dir, { recursive: true });
const write = (name: string, text: string) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };

const hooks = `
  onInit(packet, flow) { flow.udps.packet_with_custom_size = packet.rawSize === this.options.size ? 1 : 0; },
  onUpdate(packet, flow) { if (packet.rawSize === this.options.size) flow.udps.packet_with_custom_size++; },`;
const TS = write('my-feature.ts', `import { definePlugin } from 'flowseek';
export default definePlugin({
  name: 'custom_size',
  options: { size: 555 },
  onInit(packet, flow) { flow.udps.packet_with_custom_size = packet.rawSize === this.options.size ? 1 : 0; },
  onUpdate(packet, flow) { if (packet.rawSize === this.options.size) (flow.udps.packet_with_custom_size as number)++; },
  onExpire(flow) { flow.udps.seen_packets = flow.bidirectional_packets; },
});
`);
const JS = write('my-feature.js', `module.exports = { name: 'custom_size', options: { size: 555 },${hooks} };\n`);
const MJS = write('my-feature.mjs', `export default { name: 'custom_size', options: { size: 555 },${hooks} };\n`);

function jsonl(args: string[]): Flow[] {
  const r = cli(['-q', 'read', ...args, '--jsonl']);
  if (r.status !== 0) throw new Error(`flowseek ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

t.test('the issue\'s example: udps_packet_with_custom_size equals tshark\'s count of frames of that size', { skip: NO_ORACLE }, async (t) => {
  const ftp = path.join(PCAPS, 'ftp.pcap');
  const tsOut = spawnSync('tshark', ['-r', ftp, '-Y', 'frame.len == 66', '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.dstport'], { encoding: 'utf8' }).stdout;
  const expected = new Map<string, number>();
  for (const l of tsOut.trim().split('\n')) { const k = l.split('\t').map(Number).sort((a, b) => a - b).join('-'); expected.set(k, (expected.get(k) ?? 0) + 1); }
  for (const file of [TS, JS, MJS]) {
    const out = jsonl([ftp, '--plugin', file, '--plugin-option', 'size=66', '--dissections', '0']);
    t.equal(out.length, 3, `${path.extname(file)}: 3 flows`);
    for (const f of out) {
      const k = [f.src_port, f.dst_port].map(Number).sort((a, b) => a - b).join('-');
      t.equal(f.udps_packet_with_custom_size, expected.get(k) ?? 0, `${path.extname(file)} ${k}: ${f.udps_packet_with_custom_size} frames of 66 bytes`);
      if (file === TS) t.equal(f.udps_seen_packets, f.bidirectional_packets, 'onExpire reads every computed field');
    }
  }
  const csv = cli(['-q', 'read', ftp, '--plugin', TS, '--dissections', '0', '--csv']).stdout.split('\n')[0].split(',');
  t.same(csv.slice(-2), ['udps_packet_with_custom_size', 'udps_seen_packets'], 'the columns in CSV too, after the schema\'s');
  const pq = path.join(dir, 'plugin.parquet');
  t.equal(cli(['-q', 'read', ftp, '--plugin', TS, '-o', pq]).status, 0, 'and in Parquet');
});

t.test('hooks see the flow as it stands at each packet, and the packet as NFStream\'s NFPacket', async (t) => {
  const probe = write('probe.js', `module.exports = {
    name: 'probe',
    onInit(p, f) { f.udps.trace = [[f.bidirectional_packets, f.src2dst_packets, f.dst2src_packets, p.direction, p.deltaTime, p.payloadSize, p.srcPort, p.ack, p.ipPacket.length, p.srcIp]]; },
    onUpdate(p, f) { f.udps.trace.push([f.bidirectional_packets, f.src2dst_packets, f.dst2src_packets, p.direction, p.deltaTime, p.payloadSize, p.srcPort, p.ack, p.ipPacket.length, p.srcIp]); },
  };`);
  const A = '10.0.0.1', B = '10.0.0.2';
  const file = writePcap('probe.pcap', DLT.RAW, [
    { t: 1, frame: ipv4(A, B, 6, tcp(1000, 80, TCP_ACK, Buffer.alloc(10))) },
    { t: 1.25, frame: ipv4(B, A, 6, tcp(80, 1000, TCP_ACK, Buffer.alloc(20))) },
    { t: 1.5, frame: ipv4(A, B, 6, tcp(1000, 80, TCP_ACK)) },
  ]);
  const [f] = await flows([file], { plugin: [probe] });
  t.same(JSON.parse(f.udps_trace as string), [
    [1, 1, 0, 0, 0, 10, 1000, true, 50, A],
    [2, 1, 1, 1, 250, 20, 80, true, 60, B],
    [3, 2, 1, 0, 250, 0, 1000, true, 40, A],
  ]);
});

t.test('a plugin ends a flow (expiration_id -1); the next packet starts a new one', async (t) => {
  const every3 = write('every3.js', `module.exports = { name: 'every3', endsFlows: true,
    onInit(p, f) { f.udps.n = 1; },
    onUpdate(p, f) { f.udps.n++; if (f.bidirectional_packets === 3) f.expiration_id = -1; } };`);
  const file = writePcap('ten.pcap', DLT.RAW, Array.from({ length: 10 }, (_, i) => ({ t: 1 + i * 0.01, frame: ipv4('10.0.0.1', '10.0.0.2', 17, udp(5000, 53)) })));
  const out = await flows([file], { plugin: [every3] });
  t.same(out.map((f) => [f.bidirectional_packets, f.expiration_id, f.udps_n]), [[3, -1, 3], [3, -1, 3], [3, -1, 3], [1, 0, 1]]);
  t.same(out.map((f) => f.bidirectional_first_seen_ms), [1000, 1030, 1060, 1090], 'each new flow begins at the packet after the end');
});

t.test('dhcp: NFStream\'s facts on dhcp.pcap', { skip: NO_ORACLE }, async (t) => {
  const out = (await flows([path.join(PCAPS, 'dhcp.pcap')], { plugin: ['dhcp'], dissections: '0' }))
    .sort((a, b) => String(a.src_ip).localeCompare(String(b.src_ip)));
  t.equal(out.length, 3, '3 flows: each client message from 0.0.0.0 ends its flow');
  t.match(out[0], { src_ip: '0.0.0.0', udps_dhcp_msg_type: 'DISCOVER', expiration_id: -1 });
  t.match(out[1], {
    src_ip: '0.0.0.0', udps_dhcp_msg_type: 'REQUEST', udps_dhcp_50: '192.168.0.10', udps_dhcp_55: '1,3,6,42',
    udps_dhcp_options: '[53,61,50,54,55]', udps_dhcp_oui: '00:0b:82',
  });
  t.match(out[2], { src_ip: '192.168.0.1', udps_dhcp_msg_type: '', bidirectional_packets: 2 });
});

t.test('mdns: the PTR answers tshark reads, per flow, in order, each once', { skip: NO_ORACLE }, async (t) => {
  const file = path.join(PCAPS, 'mdns.pcap');
  const ts = spawnSync('tshark', ['-r', file, '-Y', 'udp.dstport == 5353', '-T', 'fields', '-E', 'separator=/t', '-e', 'ip.src', '-e', 'ipv6.src',
    '-e', 'udp.srcport', '-e', 'dns.count.queries', '-e', 'dns.resp.type', '-e', 'dns.ptr.domain_name'], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout;
  const want = new Map<string, string[]>();
  for (const line of ts.split('\n').filter(Boolean)) {
    const [s4, s6, sport, , types, names] = line.split('\t');
    const k = `${s4 || s6} ${sport}`;
    const list = want.get(k) ?? [];
    want.set(k, list);
    // dns.ptr.domain_name lists answers and additional records: keep as many as the answers' PTRs
    const ptrs = (names ?? '').split(',').filter(Boolean);
    const answerPtrs = (types ?? '').split(',').filter((x) => x === '12').length;
    for (const n of ptrs.slice(0, answerPtrs)) if (!list.includes(n)) list.push(n);
  }
  const out = await flows([file], { plugin: ['mdns'], dissections: '0' });
  let compared = 0, withPtr = 0;
  for (const f of out) {
    if (f.dst_port !== 5353) continue;
    const mine = JSON.parse(f.udps_mdns_ptr as string) as string[];
    const theirs = want.get(`${f.src_ip} ${f.src_port}`) ?? [];
    t.same(mine, theirs, `${f.src_ip}: ${mine.length} PTR answers`);
    compared++;
    if (mine.length) withPtr++;
  }
  t.ok(compared > 10 && withPtr > 5, `${compared} mDNS flows, ${withPtr} with PTR answers`);
});

t.test('plugins in worker processes: the same flows as one meter', { skip: NO_ORACLE }, async (t) => {
  const files = ['dhcp.pcap', 'mdns.pcap', 'ftp.pcap'].map((f) => path.join(PCAPS, f));
  const args = [...files, '--plugin', 'dhcp', '--plugin', 'mdns', '--plugin', TS, '--dissections', '0'];
  const strip = (f: Flow) => JSON.stringify({ ...f, id: 0 });
  const one = jsonl(args).map(strip).sort();
  const two = jsonl([...args, '--workers', '2']).map(strip).sort();
  t.equal(two.length, one.length);
  t.same(two, one, `${one.length} flows, udps columns and all`);
});

t.test('a plugin that does not load, or throws', { skip: NO_ORACLE }, async (t) => {
  const ftp = path.join(PCAPS, 'ftp.pcap');
  const bad: [string, string, RegExp][] = [
    ['missing', path.join(dir, 'nope.js'), /plugin .*nope\.js: no such file \(shipped plugins: dhcp, mdns, model\)/],
    ['syntax', write('syntax.js', 'module.exports = { name: "x", onInit( {'), /plugin .*syntax\.js does not load: /],
    ['ts error', write('bad.ts', 'export default { name: "x", onInit(p, f) { const = 1 } };'), /bad\.ts:1: /],
    ['not an object', write('num.js', 'module.exports = 42;'), /default export must be an object .* got number/],
    ['no hook', write('nohook.js', 'module.exports = { name: "x" };'), /no hook/],
    ['hook not a function', write('notfn.js', 'module.exports = { name: "x", onInit: 3 };'), /onInit must be a function/],
  ];
  for (const [what, file, msg] of bad) {
    const r = cli(['read', ftp, '--plugin', file]);
    t.equal(r.status, 1, `${what}: exit 1`);
    t.match(r.stderr, msg, `${what}: says why`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
  }
  const thrower = write('thrower.js', `module.exports = { name: 'thrower',
    onInit(p, f) { f.udps.ok = 1; },
    onUpdate(p, f) { if (f.src_port === 50695) throw new Error('boom'); } };`);
  const r = cli(['read', ftp, '--plugin', thrower, '--dissections', '0', '--csv']);
  t.equal(r.status, 0, 'a hook that throws on one flow: the run goes on');
  t.equal(r.stdout.trim().split('\n').length, 4, 'every flow written');
  t.match(r.stderr, /warning: plugin thrower: onUpdate threw 8 times; the first: boom/, 'reported once, with a count');
  t.equal((r.stderr.match(/boom/g) ?? []).length, 1, 'not once per packet');
  const fail = cli(['read', ftp, '--plugin', thrower, '--plugin-errors', 'fail', '-o', path.join(dir, 'f.csv')]);
  t.equal(fail.status, 1);
  t.match(fail.stderr, /flowseek: error: plugin thrower: onUpdate threw: boom/);
  // the flows that ended before the failure are written whole, and nothing half-written is left
  const written = fs.readFileSync(path.join(dir, 'f.csv'), 'utf8').trim().split('\n');
  t.ok(written.every((l) => l.split(',').length === written[0].split(',').length), 'the output is complete: every row whole');
  t.same(fs.readdirSync(dir).filter((n) => n.startsWith('.')), [], 'no temporary file');
  const opt = cli(['read', ftp, '--plugin-option', 'size=1']);
  t.equal(opt.status, 2);
  t.match(opt.stderr, /"--plugin-option" goes with --plugin/);
});

/** A fresh folder for one case's output: what is left in it is what the run left. */
function outDir(name: string): string {
  const d = path.join(dir, name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d);
  return d;
}
const csvRows = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n');
/** 30 UDP flows, one per source host: both partitions of --workers 2 have some */
const HOSTS = writePcap('hosts.pcap', DLT.RAW, Array.from({ length: 30 }, (_, i) => ({ t: 1 + i * 0.01, frame: ipv4(`10.0.1.${i + 1}`, '10.0.0.2', 17, udp(5000, 53)) })));

t.test('a plugin that ends its process: one line, exit 1, the other flows written, nothing hidden left', async (t) => {
  // process.disconnect() gets past any guard of process.exit: the worker ends with code 0 before it finished
  const leave = write('leave.js', `module.exports = { name: 'leave', onExpire(f) { if (f.src_ip === '10.0.1.1') process.disconnect(); } };`);
  const quit = write('quit.js', `module.exports = { name: 'quit', onExpire(f) { if (f.src_ip === '10.0.1.1') process.exit(0); } };`);
  for (const [plugin, msg] of [[leave, /^flowseek: error: worker \d ended unexpectedly \(exit 0\): /], [quit, /^flowseek: error: plugin quit: onExpire threw: it called process\.exit\(0\)/]] as const) {
    const d = outDir(`quit-${path.basename(plugin)}`);
    const r = cli(['-q', 'read', HOSTS, '--workers', '2', '--plugin', plugin, '-o', path.join(d, 'out.csv')]);
    t.equal(r.status, 1, `${path.basename(plugin)} in a worker: exit 1, not success`);
    t.match(r.stderr, msg);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    // the other worker's flows handed over by then (none if it ended first: a race, as in test/59)
    const lines = csvRows(path.join(d, 'out.csv'));
    t.ok(lines.length - 1 < 30 && lines.every((l) => l.split(',').length === lines[0].split(',').length),
      `the other worker's ${lines.length - 1} flows written whole, not the ended one's`);
    t.same(fs.readdirSync(d), ['out.csv'], 'no temporary file');
  }
  const d = outDir('quit-one');
  const r = cli(['-q', 'read', HOSTS, '--plugin', quit, '-o', path.join(d, 'out.csv')]);
  t.equal(r.status, 1, 'in this process (--workers 1): exit 1, not the plugin\'s code');
  t.match(r.stderr, /^flowseek: error: plugin quit: onExpire threw: it called process\.exit\(0\), which ends the run as an error\n$/);
  t.same(fs.readdirSync(d), ['out.csv'], 'the output closed whole, no temporary file');
  t.match(csvRows(path.join(d, 'out.csv'))[0], /^id,/, 'the header at least');
});

t.test('a plugin\'s stray error (nothing awaits it): one line naming the plugin, exit 1', async (t) => {
  const atStart = write('stray.js', `module.exports = { name: 'stray', onStart() { Promise.reject(new Error('stray rejection')); }, onExpire() {} };`);
  for (const workers of ['1', '2']) {
    const d = outDir(`stray-${workers}`);
    const r = cli(['-q', 'read', HOSTS, '--workers', workers, '--plugin', atStart, '-o', path.join(d, 'out.csv')]);
    t.equal(r.status, 1, `in onStart, --workers ${workers}: exit 1`);
    t.equal(r.stderr, 'flowseek: error: plugin stray: an unhandled error: stray rejection\n', 'one line, no stack');
    t.same(fs.readdirSync(d), [], 'it fails the start: no output, no temporary file');
  }
  const later = write('timer.js', `module.exports = { name: 'timer', onExpire() { setTimeout(() => { throw new Error('from a timer'); }); } };`);
  for (const workers of ['1', '2']) {
    const d = outDir(`timer-${workers}`);
    const r = cli(['-q', 'read', HOSTS, '--workers', workers, '--plugin', later, '-o', path.join(d, 'out.csv')]);
    t.equal(r.status, 1, `thrown from a timer during the run, --workers ${workers}: exit 1`);
    t.equal(r.stderr, 'flowseek: error: plugin timer: an unhandled error: from a timer\n', 'one line');
    t.same(fs.readdirSync(d), ['out.csv'], 'no temporary file');
    const rows = csvRows(path.join(d, 'out.csv'));
    t.ok(rows.length > 1 && rows.every((l) => l.split(',').length === rows[0].split(',').length), `the flows seen written whole (${rows.length - 1})`);
  }
});

t.test('a hook error whose message spans lines is said on one', async (t) => {
  const cycle = write('cycle.js', `module.exports = { name: 'cycle', onExpire(f) { const o = {}; o.self = o; f.udps.c = o; } };`);
  const warn = cli(['-q', 'read', HOSTS, '--plugin', cycle, '--csv']);
  t.equal(warn.status, 0);
  t.match(warn.stderr, /^flowseek: warning: plugin cycle: udps\.c threw 30 times; the first: Converting circular structure to JSON --> starting at object .* closes the circle\n$/);
  const fail = cli(['-q', 'read', HOSTS, '--plugin', cycle, '--plugin-errors', 'fail', '--csv']);
  t.equal(fail.status, 1);
  t.match(fail.stderr, /^flowseek: error: plugin cycle: udps\.c threw: Converting circular structure to JSON --> .* closes the circle\n$/);
});

t.test('a value its column cannot hold is a counted hook error, not a silent empty cell; infinities as pandas writes them', async (t) => {
  const sample = path.join(__dirname, '..', '..', 'samples', 'sample.pcap');
  // the first flow types the column (a number): the later text was written empty, without a word
  const mix = write('mix.js', `module.exports = { name: 'mix', columns: { n: 'int64' }, onInit(p, f) {
    this.k = (this.k || 0) + 1;
    f.udps.v = [1.5, Infinity, -Infinity][this.k - 1] ?? 'text';
    f.udps.n = this.k === 6 ? 'six' : this.k;
  } };`);
  const r = cli(['-q', 'read', sample, '--plugin', mix, '--batch-size', '1', '--csv']);
  t.equal(r.status, 0);
  const rows = r.stdout.trim().split('\n').map((l) => l.split(','));
  const v = rows[0].indexOf('udps_v'), n = rows[0].indexOf('udps_n');
  t.same(rows.slice(1).map((row) => row[v]), ['1.5', 'inf', '-inf', '', '', ''], 'polars, DuckDB and pandas read inf as a float');
  t.same(rows.slice(1).map((row) => row[n]), ['1', '2', '3', '4', '5', '0']);
  t.equal(r.stderr, 'flowseek: warning: plugin mix: udps.v threw 3 times; the first: a string in a column of numbers (typed float64 from its first values): ' +
    'written empty (declare it \'string\' in the plugin\'s columns to keep text)\n' +
    'flowseek: warning: plugin mix: udps.n threw 1 time; the first: a string in a column declared int64: written 0\n');
  const fail = cli(['-q', 'read', sample, '--plugin', mix, '--batch-size', '1', '--plugin-errors', 'fail', '--csv']);
  t.equal(fail.status, 1);
  t.match(fail.stderr, /^flowseek: error: plugin mix: udps\.v threw: a string in a column of numbers/);
});

t.test('a signal while a plugin starts: one line, exit 130, nothing left', async (t) => {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const d = outDir(`signal-${sig}`);
    const started = path.join(dir, `started-${sig}`);
    fs.rmSync(started, { force: true });
    const slow = write(`slow-${sig}.js`, `module.exports = { name: 'slow', onExpire() {},
      onStart() { require('fs').writeFileSync(${JSON.stringify(started)}, ''); return new Promise((r) => setTimeout(r, 30000)); } };`);
    const child = spawn(process.execPath, [BIN, '-q', 'read', HOSTS, '--plugin', slow, '-o', path.join(d, 'out.csv')],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const ended = new Promise<[number | null, string | null]>((resolve) => child.on('close', (code, signal) => resolve([code, signal])));
    for (let i = 0; i < 200 && !fs.existsSync(started); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await ended;
    clearTimeout(timer);
    t.same([code, signal], [130, null], `${sig}: exit 130, at once`);
    t.equal(stderr, `flowseek: warning: ${sig} before the run began (plugins starting): nothing was read or written\n`);
    t.same(fs.readdirSync(d), [], 'nothing left');
  }
});

t.test('an .mjs plugin in a folder whose name has a #', async (t) => {
  const d = path.join(dir, 'a#b');
  fs.mkdirSync(d, { recursive: true });
  const mjs = path.join(d, 'hash.mjs');
  fs.writeFileSync(mjs, `export default { name: 'hash', onExpire(f) { f.udps.seen = 1; } };\n`);
  const r = cli(['-q', 'read', HOSTS, '--plugin', mjs, '--csv']);
  t.equal(r.stderr, '');
  t.equal(r.status, 0);
  t.equal(r.stdout.split('\n')[0].split(',').pop(), 'udps_seen');
});

t.test('model: an ONNX linear classifier the test builds, against predictions worked out here', { skip: NO_ORACLE }, async (t) => {
  const { linearClassifier } = await import('../scripts/onnx-linear');
  // classes: 0 "small", 1 "chatty", 2 "bulk" from packets and bytes
  const W = [0.05, 0.3, -0.2, -0.0004, -0.0002, 0.0003];
  const B = [1, -1, -2];
  const model = path.join(dir, 'linear.onnx');
  fs.writeFileSync(model, linearClassifier(2, 3, W, B));
  const expect = (p: number, b: number) => {
    const logits = [0, 1, 2].map((c) => p * W[c] + b * W[3 + c] + B[c]);
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const sum = e.reduce((a, x) => a + x, 0);
    return { label: logits.indexOf(m), prob: e.map((x) => x / sum) };
  };
  const files = ['ftp.pcap', 'http_ipv6.pcap', 'dhcp.pcap', 'zoom.pcap', 'skype.pcap'].map((f) => path.join(PCAPS, f));
  const args = [...files, '--plugin', 'model', '--model', model, '--features', 'bidirectional_packets,bidirectional_bytes', '--dissections', '0'];
  const out = jsonl(args);
  const labels = new Set<number>();
  let close = 0;
  for (const f of out) {
    const want = expect(f.bidirectional_packets as number, f.bidirectional_bytes as number);
    t.equal(f.udps_model_prediction, want.label, `${f.src_ip}:${f.src_port} → class ${want.label}`);
    labels.add(want.label);
    const got = [0, 1, 2].map((c) => f[`udps_model_probability_${c}`] as number);
    if (got.every((g, c) => Math.abs(g - want.prob[c]) <= 1e-5 + 1e-4 * want.prob[c])) close++;
  }
  t.equal(close, out.length, `${out.length} flows: probabilities as computed here (float32)`);
  t.ok(labels.size === 3, `all three classes predicted (${out.length} flows)`);
  const two = jsonl([...args, '--workers', '2']).map((f) => JSON.stringify({ ...f, id: 0 })).sort();
  t.same(two, out.map((f) => JSON.stringify({ ...f, id: 0 })).sort(), 'the same in two worker processes');

  // --predict-at 2: the flow's packets and bytes at its second packet
  const A = '10.0.0.1', Bip = '10.0.0.2';
  const pkt = (len: number) => ({ t: 1, frame: ipv4(A, Bip, 17, udp(4000, 53, Buffer.alloc(len))) });
  const file = writePcap('predict.pcap', DLT.RAW, [pkt(100), pkt(200), pkt(3000), pkt(3000)]);
  const [early] = jsonl([file, '--plugin', 'model', '--model', model, '--features', 'bidirectional_packets,bidirectional_bytes', '--predict-at', '2']);
  t.equal(early.bidirectional_bytes, 128 + 228 + 3028 + 3028);
  t.equal(early.udps_model_prediction, expect(2, 128 + 228).label, 'predicted from 2 packets, 356 bytes');
  t.not(expect(2, 356).label, expect(4, 6412).label, '(the whole flow would have given another class)');

  const modelDir = path.join(dir, 'models.d');
  fs.mkdirSync(modelDir, { mode: 0o755 });
  const bad: [string, string[], number, RegExp][] = [
    // usage errors (exit 2), before anything opens: they only failed once the plugin started
    ['no model', ['--plugin', 'model', '--features', 'bidirectional_packets'], 2, /^flowseek: error: "--plugin model" needs --model FILE\.onnx\n$/],
    ['no features', ['--plugin', 'model', '--model', model], 2, /"--plugin model" needs --features COLUMNS/],
    ['missing model', ['--plugin', 'model', '--model', path.join(dir, 'none.onnx'), '--features', 'bidirectional_packets'], 1, /none\.onnx: no such file/],
    ['a folder for a model', ['--plugin', 'model', '--model', modelDir, '--features', 'bidirectional_packets'], 1, /^flowseek: error: plugin model: model .*models\.d: is a folder, not a file\n$/],
    ['not a model', ['--plugin', 'model', '--model', TS, '--features', 'bidirectional_packets'], 1, /not a model onnxruntime can load/],
    ['unknown column', ['--plugin', 'model', '--model', model, '--features', 'bogus'], 2, /"--features": not flowseek columns: bogus/],
    ['column off', ['--plugin', 'model', '--model', model, '--features', 'bidirectional_packets,bidirectional_mean_ps'], 2,
      /"--features": bidirectional_mean_ps is not a column of this run \(it comes with --stats\)/],
    ['wrong width', ['--plugin', 'model', '--model', model, '--features', 'bidirectional_packets'], 1, /the model does not take 1 features/],
    ['without the plugin', ['--model', model], 2, /"--model" goes with --plugin model/],
  ];
  for (const [what, extra, code, msg] of bad) {
    const r = cli(['read', path.join(PCAPS, 'ftp.pcap'), ...extra]);
    t.equal(r.status, code, `${what}: exit ${code}`);
    t.match(r.stderr, msg, `${what}: says why`);
  }
});

t.test('the programmatic API runs plugins too: toParquet writes their columns', { skip: NO_ORACLE }, async (t) => {
  const { FlowStreamer, parseMeterOptions, toParquet } = await import('../src/index');
  const { query, lit } = await import('./helpers/duckdb');
  const s = new FlowStreamer({ ...parseMeterOptions({ plugin: ['dhcp'] }), files: [path.join(PCAPS, 'dhcp.pcap')] });
  const out = path.join(dir, 'api.parquet');
  t.equal(await toParquet(s, out), 3);
  const r = await query(`select udps_dhcp_msg_type, udps_dhcp_55 from read_parquet(${lit(out)}) order by id`);
  // NFStream's id order: the REQUEST's flow ends at its packet, before the server's ends at the end of the file
  t.same(r.rows, [['DISCOVER', ''], ['REQUEST', '1,3,6,42'], ['', '']]);
});
