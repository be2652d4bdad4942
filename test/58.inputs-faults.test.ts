/**
 * Inputs that misbehave, each provoked: a capture truncated while it is read (one meter, and the
 * reader of lanes), a FIFO that stalls or never opens, standard input, files given out of time
 * order, and fractions of a second past 2^31.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { SYSTEM_ERROR_WORDS } from '../src/system-errors';
import { DLT, ether, ipv4, pcap, Record, tmpdir, udp, udpBurst } from './helpers/packets';
import { BIN, cli, ROOT } from './helpers/run';

const dir = fs.mkdtempSync(path.join(tmpdir(), 'inputs-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true })); // captures of several MB

/** A capture of n one-packet flows, one a second from `start`: with a 1 s idle timeout they end as
 * the file is read, so flows come out all along. */
function manyFlows(n: number, start: number): Buffer {
  return udpBurst(n, { start, stepUs: 1_000_000, sources: n, payload: 12 });
}

/** Flows of a few packets each, over `seconds` from `start`, between two hosts on `port`. */
function conversation(start: number, seconds: number, port: number): Record[] {
  const out: Record[] = [];
  for (let s = 0; s < seconds; s++) {
    for (let k = 0; k < 3; k++) {
      const src = k === 1 ? '172.16.0.2' : '172.16.0.1', dst = k === 1 ? '172.16.0.1' : '172.16.0.2';
      const sp = k === 1 ? port : 5000 + (s % 7), dp = k === 1 ? 5000 + (s % 7) : port;
      out.push({ t: start + s + k * 0.25, frame: ether(0x0800, ipv4(src, dst, 17, udp(sp, dp, Buffer.alloc(20 + k)))) });
    }
  }
  return out;
}

function write(name: string, data: Buffer | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}

/** CSV rows without the id column (flows from lanes arrive in another order and are numbered as
 * they come), sorted. */
function rows(csv: string): string[] {
  return csv.trim().split('\n').slice(1).map((l) => l.slice(l.indexOf(',') + 1)).sort();
}

const flowCount = (stderr: string) => Number(/(\d+) flows from/.exec(stderr)?.[1]);
const packetsOf = (stderr: string) => Number(/flows from (\d+) packets/.exec(stderr)?.[1]);
const ignoredOf = (stderr: string) => /packets( \([^)]*\))? in /.exec(stderr)?.[1] ?? '';
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('flowseek: warning'));
const leftovers = () => fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'));

interface Exit { code: number | null; stdout: string; stderr: string; ms: number }

function start(args: string[], stdin: 'ignore' | 'pipe' = 'ignore', env: NodeJS.ProcessEnv = process.env) {
  const began = Date.now();
  const child = spawn(process.execPath, [BIN, 'read', ...args], { stdio: [stdin, 'pipe', 'pipe'], env });
  let stdout = '', stderr = '';
  const out = child.stdout as Readable;
  out.setEncoding('utf8');
  (child.stderr as Readable).on('data', (d) => { stderr += d; });
  const done = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - began })));
  return { child, stdout: out, done, out: (d: string) => { stdout += d; } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes this process has read so far (all reads, FIFO included). */
function readBytes(pid: number): number {
  return Number(/rchar: (\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
}

/** Waits until the process holds `file` open (a FIFO: its read has begun, so the run and its
 * signal handlers have), then until its reads stop moving; its bytes read then. */
async function waiting(pid: number, file: string): Promise<number> {
  const holds = () => fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file; } catch { return false; }
  });
  for (const t0 = Date.now(); !holds() && Date.now() - t0 < 20_000;) await sleep(50);
  let last = -1;
  for (let now = readBytes(pid); now !== last; now = readBytes(pid)) { last = now; await sleep(200); }
  return last;
}

/** Waits until the process has read `bytes` (a FIFO's data). */
async function hasRead(pid: number, bytes: number): Promise<void> {
  for (const t0 = Date.now(); readBytes(pid) < bytes && Date.now() - t0 < 20_000;) await sleep(50);
}

/** read's arguments for `file` with a plugin that cuts it to `size` bytes at the first flow (the
 * meter has read at most a batch of packets by then), written to `out`. */
function cutAtFirstFlow(file: string, size: number, out: string): string[] {
  const plugin = write('cut.js', `const fs = require('fs');
let done = false;
module.exports = { name: 'cut', options: { file: '', size: 0 },
  onInit() { if (!done) { done = true; fs.truncateSync(this.options.file, this.options.size); } } };
`);
  return [file, '--idle-timeout', '1', '--plugin', plugin, '--plugin-option', `file=${file}`, '--plugin-option', `size=${size}`, '-o', out];
}

t.test('a capture truncated while it is read: the flows before the cut, one warning, exit 1', async (t) => {
  const whole = manyFlows(60_000, 1_600_000_000);
  const cut = Math.floor(whole.length / 2) + 7; // inside a record
  const file = write('ring.pcap', whole);
  const out = path.join(dir, 'ring.csv');
  const r = cli(['read', ...cutAtFirstFlow(file, cut, out)]);
  t.equal(r.status, 1, 'exit 1: a read error');
  t.equal(fs.statSync(file).size, cut, 'the plugin did cut the file');
  const w = warnings(r.stderr);
  t.equal(w.length, 1, `one warning: ${w.join(' | ')}`);
  t.match(w[0], `${file}: the file was truncated while it was read`);
  t.notMatch(r.stderr, /error:/, 'no error line');
  const got = fs.readFileSync(out, 'utf8');
  t.equal(got.trim().split('\n').length - 1, flowCount(r.stderr), 'every flow counted is written');
  t.same(leftovers(), [], 'no temporary file left');
  // the same file read once cut: the same flows, no zeroed record among them
  const again = path.join(dir, 'ring-after.csv');
  const a = cli(['read', ...cutAtFirstFlow(file, cut, again)]);
  t.equal(a.status, 1, 'read once cut: exit 1 (a truncated file)');
  t.ok(flowCount(a.stderr) > 20_000 && flowCount(a.stderr) < 40_000, `${flowCount(a.stderr)} flows, about half`);
  t.equal(got, fs.readFileSync(again, 'utf8'), 'the flows of the file as cut, exactly');
});

// One meter reads through libpcap's buffer, where a file cut between two records simply ends: the
// size it had when opened tells the cut from the file's end.
t.test('a capture cut between two records while it is read: said, exit 1, the flows before the cut', async (t) => {
  const whole = manyFlows(60_000, 1_600_000_000);
  const record = (whole.length - 24) / 60_000;
  const cut = 24 + 40_000 * record;
  const file = write('ring-even.pcap', whole);
  const r = cli(['read', ...cutAtFirstFlow(file, cut, path.join(dir, 'even.csv'))]);
  t.equal(r.status, 1, 'exit 1: a read error');
  t.equal(fs.statSync(file).size, cut, 'the plugin did cut the file');
  const w = warnings(r.stderr);
  t.equal(w.length, 1, `one warning: ${w.join(' | ')}`);
  t.match(w[0], `${file}: the file was truncated while it was read (${cut} bytes left of ${whole.length}); flows up to this point are kept`);
  t.equal(packetsOf(r.stderr), 40_000, 'the packets before the cut, every one');
  const again = cli(['read', file, '--idle-timeout', '1', '-o', path.join(dir, 'even-after.csv')]);
  t.equal(again.status, 0, 'the file as cut is whole: read again, exit 0');
  t.equal(flowCount(r.stderr), flowCount(again.stderr), `the same flows (${flowCount(again.stderr)})`);
});

// A capture still being written (tcpdump -w, read from cron): read as it was when opened, so the
// record being written as it is read, here half of one, is not taken for damage.
t.test('a capture that grows while it is read: read as it was when opened', async (t) => {
  const whole = manyFlows(60_000, 1_600_000_000);
  const record = (whole.length - 24) / 60_000;
  const plugin = write('grow.js', `const fs = require('fs');
let done = false;
module.exports = { name: 'grow', options: { file: '', bytes: 0 },
  onInit() { if (!done) { done = true; fs.appendFileSync(this.options.file, fs.readFileSync(this.options.file).subarray(24, 24 + this.options.bytes)); } } };
`);
  const file = write('growing.pcap', whole);
  const grown = Math.floor(record * 1.5); // a whole record, then half of the next
  const r = cli(['read', file, '--idle-timeout', '1', '--plugin', plugin, '--plugin-option', `file=${file}`,
    '--plugin-option', `bytes=${grown}`, '-o', path.join(dir, 'grow.csv')]);
  t.equal(fs.statSync(file).size, whole.length + grown, 'the plugin did add to the file');
  t.equal(r.status, 0, `exit 0 (${r.stderr.trim().split('\n').pop()})`);
  t.same(warnings(r.stderr), [], 'no warning');
  t.equal(packetsOf(r.stderr), 60_000, 'the packets it had when opened');
});

/** Reads with standard output a pipe the test stops reading after the first rows: the meter (and
 * lanes, or a lanes' reader, whose rings then fill) waits; the file is cut to `cut` bytes while it does. */
async function cutWhilePaused(args: string[], file: string, cut: number, env?: NodeJS.ProcessEnv): Promise<Exit> {
  return whilePaused(args, () => fs.truncateSync(file, cut), env);
}

/** The run of `args`, its standard output paused after the first rows while `act` is done. */
async function whilePaused(args: string[], act: () => void, env?: NodeJS.ProcessEnv): Promise<Exit> {
  const run = start(args, 'ignore', env);
  await new Promise<void>((resolve) => run.stdout.once('data', (d: string) => { run.out(d); run.stdout.pause(); resolve(); }));
  await sleep(500);
  act();
  run.stdout.on('data', run.out);
  run.stdout.resume();
  return run.done;
}

/** Lanes given a reader that hands them frames, as a FIFO's are, though they read a file. */
const READER = { ...process.env, FLOWSEEK_SPREAD: 'reader' };

// The same with lanes, each reading the file, or their reader held back by full rings, while the
// file grows.
for (const env of [undefined, READER]) {
  const how = env ? 'lanes fed by a reader' : 'lanes';
  t.test(`a capture that grows while it is read, ${how}: read as it was when opened`, async (t) => {
    const whole = manyFlows(200_000, 1_600_000_000);
    const record = (whole.length - 24) / 200_000;
    const file = write(`growing-lanes${env ? '-reader' : ''}.pcap`, whole);
    const args = [file, '--idle-timeout', '1', '--dissections', '0', '--csv', '--workers', '2'];
    const r = await whilePaused(args, () => fs.appendFileSync(file, whole.subarray(24, 24 + Math.floor(record * 1.5))), env);
    t.equal(r.code, 0, `exit 0 (${r.stderr.trim().split('\n').pop()})`);
    t.same(warnings(r.stderr), [], 'no warning');
    t.equal(packetsOf(r.stderr), 200_000, 'the packets it had when opened');
  });
}

for (const workers of [1, 2]) {
  t.test(`truncated while read, output paused${workers > 1 ? ', lanes' : ''}: no crash, the flows before the cut`, async (t) => {
    // where each waits (cutWhilePaused): one meter, a batch or two of 4096 flows in; lanes, each
    // reading the file, as far: before the cut either way
    const whole = manyFlows(workers > 1 ? 200_000 : 100_000, 1_600_000_000);
    const cut = Math.floor(whole.length * (workers > 1 ? 0.8 : 0.6)) + 3;
    const file = write(`paused-${workers}.pcap`, whole);
    const args = [file, '--idle-timeout', '1', '--dissections', '0', '--csv', '--workers', String(workers)];
    const r = await cutWhilePaused(args, file, cut);
    t.equal(r.code, 1, `exit 1 (${r.stderr.trim().split('\n').pop()})`);
    const w = warnings(r.stderr);
    t.equal(w.length, 1, `one warning: ${w.join(' | ')}`);
    t.match(w[0], `${file}: the file was truncated while it was read`);
    t.equal(r.stdout.trim().split('\n').length - 1, flowCount(r.stderr), 'every flow counted is written');
    const after = cli(['read', ...args]);
    t.equal(after.status, 1, 'read once cut: exit 1');
    t.same(rows(r.stdout), rows(after.stdout), `the flows of the file as cut (${flowCount(after.stderr)})`);
    // and its counts: the cut lies past what was read when it came, so the packets are the file's as cut
    t.equal(packetsOf(r.stderr), packetsOf(after.stderr), `the packets of the file as cut (${packetsOf(after.stderr)})`);
    t.equal(ignoredOf(r.stderr), ignoredOf(after.stderr), 'and what was not metered');
  });
}

// Lanes fed by a reader (a FIFO's; chosen here for a file): the reader runs up to a ring ahead of
// the lanes (131,072 entries each; a packet a second here, so every packet also sends the other
// lane a clock tick: the reader stops about 131,072 packets on). The frames it read before a cut
// behind it are its copies, metered whole; what it reads after is the file as cut, and it says so.
t.test('truncated behind the reader of lanes: the frames read before the cut are metered whole', async (t) => {
  const whole = manyFlows(400_000, 1_600_000_000);
  const cut = 24 + 100_000 * ((whole.length - 24) / 400_000);
  const file = write('behind.pcap', whole);
  const args = [file, '--idle-timeout', '1', '--dissections', '0', '--csv', '--workers', '2'];
  const r = await cutWhilePaused(args, file, cut, READER);
  t.equal(r.code, 1, `exit 1 (${r.stderr.trim().split('\n').pop()})`);
  const w = warnings(r.stderr);
  t.equal(w.length, 1, `one warning: ${w.join(' | ')}`);
  t.match(w[0], `${file}: the file was truncated while it was read`);
  const after = cli(['read', ...args]);
  t.ok(packetsOf(r.stderr) > packetsOf(after.stderr), `${packetsOf(r.stderr)} packets read before the cut, more than the ${packetsOf(after.stderr)} the file has now`);
  t.equal(ignoredOf(r.stderr), '', 'none of them refused (no frame read as zeros)');
  const got = new Set(rows(r.stdout));
  t.ok(rows(after.stdout).every((row) => got.has(row)), 'every flow of the file as cut is among them, the same');
  t.equal(r.stdout.trim().split('\n').length - 1, flowCount(r.stderr), 'every flow counted is written');
});

// Lanes again, the reader this time at the end of the file before the cut (60,000 packets: with the
// other lane's clock ticks, under a ring each). Every frame is the reader's copy: nothing is lost.
t.test('truncated after the reader of lanes read it all: nothing is lost, exit 0', async (t) => {
  const whole = manyFlows(60_000, 1_600_000_000);
  const file = write('read-all.pcap', whole);
  const args = [file, '--idle-timeout', '1', '--dissections', '0', '--csv', '--workers', '2'];
  const r = await cutWhilePaused(args, file, 24 + 30_000 * ((whole.length - 24) / 60_000), READER);
  t.equal(r.code, 0, `exit 0 (${r.stderr.trim().split('\n').pop()})`);
  t.same(warnings(r.stderr), [], 'no warning');
  t.equal(packetsOf(r.stderr), 60_000, 'every packet metered');
  t.equal(r.stdout.trim().split('\n').length - 1, 60_000, 'every flow written');
});

t.test('a FIFO that stalls: SIGTERM and SIGINT end the read at once, its flows written (exit 130)', async (t) => {
  const records = conversation(1_600_000_000, 40, 4000);
  const part = pcap(DLT.EN10MB, records);
  const partFile = write('part.pcap', part);
  const expected = cli(['read', partFile, '--csv']);
  t.equal(expected.status, 0);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const fifo = path.join(dir, `stall-${signal}.fifo`);
    const out = path.join(dir, `stall-${signal}.csv`);
    execFileSync('mkfifo', [fifo]);
    const run = start([fifo, '-o', out]);
    // the writer sends part of a capture and keeps the pipe open
    const feed = fs.openSync(fifo, 'w');
    const before = await waiting(run.child.pid as number, fifo);
    fs.writeSync(feed, part);
    await hasRead(run.child.pid as number, before + part.length);
    const sent = Date.now();
    run.child.kill(signal);
    const r = await run.done;
    fs.closeSync(feed);
    t.equal(r.code, 130, `${signal}: exit 130 (${r.stderr.trim().split('\n').pop()})`);
    t.ok(Date.now() - sent < 3000, `${signal}: ended ${Date.now() - sent} ms after the signal`);
    t.equal(fs.readFileSync(out, 'utf8'), expected.stdout, `${signal}: the flows it had read, written`);
    t.same(warnings(r.stderr).filter((l) => !l.includes(signal)), [], 'no warning but the signal\'s');
  }
});

t.test('a FIFO nobody writes to: a signal still ends the read', async (t) => {
  const fifo = path.join(dir, 'silent.fifo');
  execFileSync('mkfifo', [fifo]);
  const run = start([fifo, '--csv']);
  await waiting(run.child.pid as number, fifo);
  const sent = Date.now();
  run.child.kill('SIGTERM');
  const r = await run.done;
  t.equal(r.code, 130, `exit 130 (${r.stderr.trim().split('\n').pop()})`);
  t.ok(Date.now() - sent < 3000, `ended ${Date.now() - sent} ms after the signal`);
  t.equal(flowCount(r.stderr), 0, 'no flows');
});

t.test('a FIFO whose writer closes, and standard input: the same flows as the file', async (t) => {
  // the flows of a conversation, then 3000 one-packet flows (their records after the first header)
  const capture = Buffer.concat([pcap(DLT.EN10MB, conversation(1_600_000_000, 30, 4000)), manyFlows(3000, 1_600_000_040).subarray(24)]);
  const file = write('whole.pcap', capture);
  const expected = cli(['read', file, '--csv', '--stats']);
  t.equal(expected.status, 0);
  const fifo = path.join(dir, 'whole.fifo');
  execFileSync('mkfifo', [fifo]);
  const run = start([fifo, '--csv', '--stats']);
  run.stdout.on('data', run.out);
  fs.writeFileSync(fifo, capture); // opens, writes, closes
  const r = await run.done;
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, expected.stdout, 'FIFO: the flows of the file');
  for (const workers of ['1', '2']) {
    const s = cli(['read', '-', '--csv', '--stats', '--workers', workers], capture as unknown as string);
    t.equal(s.status, 0, s.stderr);
    t.same(rows(s.stdout), rows(expected.stdout), `read - (--workers ${workers}): the flows of the file`);
  }
  // worker processes (plugins) would each take a share of the bytes
  const plugin = path.join(ROOT, 'bench', 'trivial-plugin.js');
  const pool = cli(['read', '-', '--csv', '--workers', '2', '--plugin', plugin], '');
  t.equal(pool.status, 1);
  t.match(pool.stderr, /flowseek: error: -: standard input can be read by one meter only/);
  const fifoPool = cli(['read', fifo, '--csv', '--workers', '2', '--plugin', plugin]);
  t.equal(fifoPool.status, 1);
  t.match(fifoPool.stderr, /a FIFO can be read by one meter only/);
  const twice = cli(['read', '-', '-', '--csv'], '');
  t.equal(twice.status, 1);
  t.match(twice.stderr, /standard input can be read once only/);
});

t.test('files given out of time order are read in time order, with one note', async (t) => {
  const early = write('early.pcap', pcap(DLT.EN10MB, conversation(1_600_000_000, 50, 4000)));
  const late = write('late.pcap', pcap(DLT.EN10MB, conversation(1_600_000_100, 50, 4000)));
  const right = cli(['read', early, late, '--csv']);
  t.equal(right.status, 0);
  t.same(warnings(right.stderr), [], 'in order: no note');
  const reversed = cli(['read', late, early, '--csv']);
  t.equal(reversed.status, 0, reversed.stderr);
  t.equal(reversed.stdout, right.stdout, 'the same flows, durations and ids as in the right order');
  const w = warnings(reversed.stderr);
  t.equal(w.length, 1, w.join(' | '));
  t.match(w[0], `not given in time order: they are read in the order of their first packets, from ${early}`);
  for (const workers of ['2']) {
    const lanes = cli(['read', late, early, '--csv', '--workers', workers]);
    t.same(rows(lanes.stdout), rows(right.stdout), `--workers ${workers}: the same flows`);
  }
  // overlapping files: said, not silently forced
  const overlap = write('overlap.pcap', pcap(DLT.EN10MB, conversation(1_600_000_030, 50, 5000)));
  const o = cli(['read', early, overlap, '--csv']);
  t.equal(o.status, 0);
  const ow = warnings(o.stderr);
  t.equal(ow.length, 1, ow.join(' | '));
  t.match(ow[0], `${overlap}: starts before ${early} ends`);
  // the same file twice: said so, not as one file starting before itself ends
  t.same(warnings(cli(['read', early, early, '--csv']).stderr), [`flowseek: warning: ${early}: given more than once: its packets are read again, timed as its last one`]);
});

t.test('many notes never crowd out the read error that fails the run; a newline in a name stays in its line', async (t) => {
  const many = fs.mkdtempSync(path.join(dir, 'notes-'));
  const files: string[] = [];
  for (let k = 0; k < 40; k++) {
    // each starts before the one before ends: a note apiece, 40 lines of 150 bytes and more
    files.push(path.join(many, `overlapping-capture-file-with-a-rather-long-name-${String(k).padStart(3, '0')}.pcap`));
    fs.writeFileSync(files[k], pcap(DLT.EN10MB, conversation(1_600_000_000 + k, 10, 6000 + k)));
  }
  const last = path.join(many, 'zz-cut.pcap');
  const whole = pcap(DLT.EN10MB, conversation(1_600_000_100, 3, 7000));
  fs.writeFileSync(last, whole.subarray(0, whole.length - 20));
  for (const workers of ['1', '2']) {
    const r = cli(['read', ...files, last, '--csv', '--workers', workers]);
    t.equal(r.status, 1, `--workers ${workers}: exit 1`);
    const w = warnings(r.stderr);
    t.match(w[w.length - 1], `${last}: truncated dump file`, 'the error that fails the run is said (it was left out)');
    t.ok(w.some((l) => l.includes('(more notes of this kind are left out)')), 'the notes left out are said to be');
    t.ok(w.length > 5, `and the notes that fit are there (${w.length} lines)`);
  }
  const odd = path.join(many, 'bad\nname.pcap');
  fs.writeFileSync(odd, whole.subarray(0, whole.length - 20));
  const r = cli(['read', odd, '--csv']);
  t.equal(r.status, 1);
  t.same(warnings(r.stderr).map((l) => l.slice(0, l.indexOf(':', 20))), [`flowseek: warning: ${path.join(many, 'bad?name.pcap')}`], 'one line, the newline shown as ?');
});

// Sixty truncated files once named thirty and said nothing of the rest: the meter's room for
// warnings was full, and what did not fit was dropped.
t.test('more files with read errors than the warnings hold: each is named or counted, the rest in one line', async (t) => {
  const cut = fs.mkdtempSync(path.join(dir, 'cut-'));
  const files: string[] = [];
  for (let k = 0; k < 60; k++) {
    const whole = pcap(DLT.EN10MB, conversation(1_600_000_000 + 10 * k, 3, 6000 + k));
    files.push(path.join(cut, `truncated-capture-${String(k).padStart(2, '0')}.pcap`));
    fs.writeFileSync(files[k], whole.subarray(0, whole.length - 7));
  }
  const ways: [string, NodeJS.ProcessEnv][] = [['one meter', {}], ['lanes', {}], ['lanes fed by a reader', { FLOWSEEK_SPREAD: 'reader' }]];
  for (const [way, env] of ways) {
    const r = spawnSync(process.execPath, [BIN, 'read', ...files, '--csv', '--workers', way === 'one meter' ? '1' : '2'],
      { encoding: 'utf8', env: { ...process.env, ...env } });
    t.equal(r.status, 1, `${way}: exit 1`);
    const w = warnings(r.stderr);
    const named = w.filter((l) => l.includes(': truncated dump file')).map((l) => l.slice('flowseek: warning: '.length, l.indexOf('.pcap:') + 5));
    t.equal(new Set(named).size, named.length, `${way}: one line a file (${named.length} named)`);
    t.ok(named.every((f) => files.includes(f)), `${way}: each names one of the files`);
    const rest = /^flowseek: warning: \.\.\. and (\d+) more files with read errors \(the first are named above\)$/.exec(w[w.length - 1]);
    t.ok(rest, `${way}: the last line says more were left out: ${w[w.length - 1]}`);
    t.equal(named.length + Number(rest?.[1]), files.length, `${way}: named and counted, every file once`);
  }
});

// Lanes each open the files themselves: a descriptor short, one lane could open none of them while
// the other read them all, and the summary took the most packets a lane read (all of them) for an
// output without the first lane's flows. Where Node starts and where a lane runs short depend on
// the machine, so limits are tried upward until every file opens.
t.test('a lane that cannot open the files: the summary counts the packets metered, and names the files', async (t) => {
  const few = fs.mkdtempSync(path.join(dir, 'lanes-short-'));
  const files: string[] = [];
  for (let k = 0; k < 6; k++) {
    files.push(path.join(few, `part-${k}.pcap`));
    fs.writeFileSync(files[k], udpBurst(20_000, { start: 1_600_000_000 + 100 * k, stepUs: 1000, sources: 200, payload: 12 }));
  }
  let short = 0;
  for (let n = 16; n <= 40; n++) {
    const r = spawnSync('bash', ['-c', `ulimit -n ${n}; exec env -u NODE_OPTIONS "$0" "$@"`, process.execPath, BIN, 'read', ...files, '--csv', '--workers', '2'],
      { encoding: 'utf8', maxBuffer: 1 << 26 });
    const unopened = warnings(r.stderr).filter((l) => l.includes(': cannot be opened: '));
    if (r.status === 0 && unopened.length === 0) break; // enough descriptors from here on
    if (!Number.isFinite(packetsOf(r.stderr)) || flowCount(r.stderr) === 0) continue; // Node, or both lanes, short
    short++;
    const column = r.stdout.split('\n')[0].split(',').indexOf('bidirectional_packets');
    const metered = r.stdout.trim().split('\n').slice(1).reduce((n, l) => n + Number(l.split(',')[column]), 0);
    t.equal(packetsOf(r.stderr), metered, `ulimit -n ${n}: the summary's packets are the flows' (${unopened.length} files not opened by a lane)`);
    const rest = Number(/\.\.\. and (\d+) more files/.exec(r.stderr)?.[1] ?? 0);
    t.ok(unopened.length + rest > 0 && r.status === 1, `ulimit -n ${n}: the files a lane could not open are said, exit 1`);
  }
  t.ok(short > 0, 'one limit at least left a lane short of descriptors while the other read');
});

t.test('a capture file that cannot be looked at is said why, not "no such file"', async (t) => {
  const here = fs.mkdtempSync(path.join(dir, 'stat-'));
  fs.symlinkSync(path.join(here, 'b'), path.join(here, 'a'));
  fs.symlinkSync(path.join(here, 'a'), path.join(here, 'b'));
  fs.writeFileSync(path.join(here, 'file'), '');
  for (const [name, why] of [['a', 'too many symbolic links (a loop?)'], ['file/x.pcap', 'a part of the path is not a folder'], ['none.pcap', 'no such file']]) {
    const r = cli(['read', path.join(here, name)]);
    t.equal(r.status, 1);
    t.equal(r.stderr, `flowseek: error: ${path.join(here, name)}: ${why}\n`);
  }
});

t.test('a valid pcapng of two link types, and a link type with no name, are said as they are', async (t) => {
  const block = (type: number, body: Buffer) => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const len = 12 + padded.length, b = Buffer.alloc(len);
    b.writeUInt32LE(type, 0); b.writeUInt32LE(len, 4); padded.copy(b, 8); b.writeUInt32LE(len, len - 4);
    return b;
  };
  const shb = Buffer.alloc(16); shb.writeUInt32LE(0x1a2b3c4d, 0); shb.writeUInt16LE(1, 4); shb.writeBigInt64LE(-1n, 8);
  const idb = (linktype: number) => { const b = Buffer.alloc(8); b.writeUInt16LE(linktype, 0); return block(1, b); };
  const epb = (iface: number, frame: Buffer) => {
    const h = Buffer.alloc(20); h.writeUInt32LE(iface, 0); h.writeUInt32LE(0x5f5e1, 4); h.writeUInt32LE(frame.length, 12); h.writeUInt32LE(frame.length, 16);
    return block(6, Buffer.concat([h, frame]));
  };
  const packet = ipv4('10.0.0.1', '10.0.0.2', 17, udp(1000, 2000, Buffer.alloc(20)));
  const file = write('two-types.pcapng', Buffer.concat([block(0x0a0d0d0a, shb), idb(DLT.EN10MB), idb(101), epb(0, ether(0x0800, packet)), epb(1, packet)]));
  const r = cli(['read', file, '--csv']);
  t.equal(r.status, 1);
  t.match(warnings(r.stderr)[0], `${file}: its interfaces have different link types (pcapng), and libpcap reads none past the first type's; flows up to this point are kept`);
  const user0 = write('user0.pcap', pcap(147, [{ t: 1, frame: Buffer.alloc(30) }]));
  t.match(warnings(cli(['read', user0, '--csv']).stderr)[0], `${user0}: link type number 147 is not decoded`);
  // a type whose records may pass 256 KiB (USBPCAP: 1 MiB): read as libpcap reads it, not refused
  const usb = write('usbpcap.pcap', pcap(249, [100, 300_000, 100].map((n, i) => ({ t: 1 + i, frame: Buffer.alloc(n) })), 1 << 20));
  const u = cli(['read', usb, '--csv']);
  t.equal(u.status, 0, u.stderr);
  t.match(u.stderr, /0 flows from 3 packets \(3 ignored: 3 unsupported_linktype\)/);
});

t.test('a packet timed years ahead: every later one is held at its time, and the run says so', async (t) => {
  const frame = (src: string) => ether(0x0800, ipv4(src, '10.0.0.2', 17, udp(1000, 2000, Buffer.alloc(20))));
  const start = 1_600_000_000;
  const records: Record[] = [{ t: start, frame: frame('10.0.0.1') }, { t: start + 0.5, frame: frame('10.0.0.1') },
    { t: start + 5 * 365 * 86_400, frame: frame('10.9.9.9') }];
  for (let i = 1; i <= 5; i++) records.push({ t: start + i, frame: frame(`10.0.1.${i}`) });
  const file = write('years-ahead.pcap', pcap(DLT.EN10MB, records));
  for (const workers of ['1', '2']) {
    const r = cli(['read', file, '--csv', '--workers', workers]);
    t.equal(r.status, 0);
    t.same(warnings(r.stderr), ['flowseek: warning: 5 packets came timed more than a second before a packet read earlier (by up to 1,825 days): ' +
      'each is counted at that later time, as NFStream counts it (one packet timed far ahead holds every later one)'], `--workers ${workers}`);
  }
  // files that overlap in time: their note says why their packets are held back, and no count
  // follows it (the same file given twice too)
  // (the second file starts 5 s into the first, which lasts 60 s: its packets are held back 55 s)
  const first = write('first.pcap', pcap(DLT.EN10MB, [0, 60].map((d) => ({ t: start + d, frame: frame('10.0.2.1') }))));
  const inside = write('inside.pcap', pcap(DLT.EN10MB, [5, 6, 7].map((d) => ({ t: start + d, frame: frame('10.0.2.2') }))));
  for (const workers of ['1', '2']) {
    const r = cli(['read', first, inside, '--csv', '--workers', workers]);
    t.equal(r.status, 0, r.stderr);
    t.same(warnings(r.stderr), [`flowseek: warning: ${inside}: starts before ${first} ends: the packets it has from before then are timed as ` +
      'that file\'s last one'], `overlapping files, --workers ${workers}: the note alone`);
    const twice = cli(['read', inside, inside, '--csv', '--workers', workers]);
    t.same(warnings(twice.stderr), [`flowseek: warning: ${inside}: given more than once: its packets are read again, timed as its last one`],
      `the same file twice, --workers ${workers}: the note alone`);
  }
  // a few packets out of order by less than a second are a capture's everyday: nothing said
  const shuffled = write('reordered.pcap', pcap(DLT.EN10MB, [0, 0.3, 0.1, 0.2, 0.9, 0.5].map((d) => ({ t: start + d, frame: frame('10.0.0.1') }))));
  t.same(warnings(cli(['read', shuffled, '--csv']).stderr), []);
});

t.test('a fraction of a second past 2^31: counted as 0, by one meter and by lanes alike', async (t) => {
  // libpcap 1.10 reads the fraction as signed 32 bits: past 2^31 it is negative, counted as 0
  const base = 1_600_000_000;
  const fracs = [0x80000010, 0xffffffff, 2_000_000, 999_999, 0x7fffffff, 123];
  for (const nano of [false, true]) {
    const recs = fracs.map((f, i) => ({ t: base + i * 10, frame: ether(0x0800, ipv4('10.0.0.1', `10.0.1.${i}`, 17, udp(1000, 2000))) }));
    const data = pcap(DLT.EN10MB, recs, 262144, nano);
    // the fraction field of each record, written raw
    for (let at = 24, i = 0; i < recs.length; i++) {
      data.writeUInt32LE(fracs[i], at + 4);
      at += 16 + data.readUInt32LE(at + 8);
    }
    const file = write(`frac-${nano ? 'ns' : 'us'}.pcap`, data);
    // lanes take their times from the reader's clock, one meter from its own
    const lanes = cli(['read', file, '--csv', '--time-precision', 'ns', '--workers', '2']);
    const one = cli(['read', file, '--csv', '--time-precision', 'ns']);
    t.equal(lanes.status, 0, lanes.stderr);
    t.equal(one.status, 0, one.stderr);
    t.same(rows(lanes.stdout), rows(one.stdout), `${nano ? 'nanosecond' : 'microsecond'} file: the same flows either way`);
    const first = rows(lanes.stdout).map((l) => l.split(','));
    const header = lanes.stdout.split('\n')[0].split(',').slice(1);
    const col = header.indexOf('bidirectional_first_seen_ms');
    const seen = first.map((r) => Number(r[col])).sort((a, b) => a - b);
    // the meter's clock only goes forward: a fraction counted as 0 still leaves each flow at its second
    t.same(seen.slice(0, 2), [base * 1000, (base + 10) * 1000], 'a fraction past 2^31 counts as 0');
  }
});

// Out of descriptors when the input is opened, the run blamed the file: "cannot read as a capture
// file (Too many open files)". Where Node itself starts under each limit and where the input's open
// fails depends on the machine, so a range of limits is tried: none may blame the file, and one at
// least must reach the input's open and fail there.
t.test('no descriptor left to open the input: the file is not blamed', async (t) => {
  const input = path.join(ROOT, 'samples', 'sample.pcap');
  const said: string[] = [];
  for (let n = 16; n <= 40; n++) {
    const r = spawnSync('bash', ['-c', `ulimit -n ${n}; exec env -u NODE_OPTIONS "$0" "$1" read "$2" --csv -o /dev/null`, process.execPath, BIN, input],
      { encoding: 'utf8' });
    if (r.status === 0) break; // enough descriptors from here on
    said.push(r.stderr);
  }
  t.notOk(said.some((s) => /cannot read as a capture file/.test(s)), 'the input is never called unreadable');
  // the meter words this itself (native/source.c): the same words as the table's
  t.ok(said.some((s) => s.includes(`${input}: cannot be opened: ${SYSTEM_ERROR_WORDS.EMFILE}`)), 'the limit is named, in the table\'s words');
});

// Node reads its arguments as UTF-8: a name that is not reached flowseek with U+FFFD in it, an
// input "not found" though it was there, an output written under a name not asked for (exit 0)
t.test('file names that are not UTF-8: one line saying so, exit 2, nothing written', async (t) => {
  const work = path.join(tmpdir(), 'not-utf8');
  fs.mkdirSync(work, { recursive: true });
  const sample = path.join(ROOT, 'samples', 'sample.pcap');
  const run = (script: string) => spawnSync('bash', ['-c', script, process.execPath, BIN, sample, work], { encoding: 'utf8' });
  const input = run('cp "$2" "$3/in$(printf "\\xff").pcap" && exec env -u NODE_OPTIONS "$0" "$1" read "$3/in$(printf "\\xff").pcap" --csv');
  t.equal(input.status, 2);
  t.match(input.stderr, /^flowseek: error: ".*in\uFFFD\.pcap": a file name that is not UTF-8 cannot be given to flowseek \(Node reads its arguments as UTF-8\); rename the file or give it through a symlink\n$/);
  const output = run('exec env -u NODE_OPTIONS "$0" "$1" read "$2" -o "$3/out$(printf "\\xfe").csv"');
  t.equal(output.status, 2);
  t.match(output.stderr, /^flowseek: error: -o ".*out\uFFFD\.csv": a file name that is not UTF-8/);
  t.same(fs.readdirSync(work).filter((n) => n.startsWith('out') || n.startsWith('.out')), [], 'no output under any name');
  // a file whose name holds U+FFFD itself is no excuse: the other name is still refused, and that
  // file left as it was; a new name holding U+FFFD itself is written
  const twin = path.join(work, 'x\uFFFD.csv');
  fs.writeFileSync(twin, 'precious\n');
  const other = run('exec env -u NODE_OPTIONS "$0" "$1" read "$2" -o "$3/x$(printf "\\xff").csv"');
  t.equal(other.status, 2, 'the name with a byte that is not UTF-8 is refused though its twin exists');
  t.equal(fs.readFileSync(twin, 'utf8'), 'precious\n', 'the twin untouched');
  const literal = cli(['read', sample, '-q', '-o', path.join(work, 'caf\uFFFD.csv')]);
  t.equal(literal.status, 0, literal.stderr);
  t.ok(fs.existsSync(path.join(work, 'caf\uFFFD.csv')), 'a name holding U+FFFD itself is written');
});

// libgcrypt (nDPI's) was set up as the lanes' meters started, after the output's temporary file
// took a descriptor: with none left it aborted the process ("FATAL: error reading
// /proc/sys/crypto/fips_enabled", exit 134) and left the temporary behind. From the lowest limit
// flowseek starts under up to one that is enough, each run ends as a run, and leaves no temporary.
t.test('few descriptors: no abort, no temporary file left, one meter or lanes', async (t) => {
  const input = path.join(ROOT, 'samples', 'sample.pcap');
  const out = fs.mkdtempSync(path.join(dir, 'limits-'));
  const under = (n: number, args: string[]) => spawnSync('bash', ['-c', `ulimit -n ${n}; exec env -u NODE_OPTIONS "$0" "$@"`, process.execPath, BIN, ...args],
    { encoding: 'utf8' });
  let lowest = 16;
  while (lowest < 40 && under(lowest, ['--version']).status !== 0) lowest++;
  for (const workers of ['1', '2']) {
    for (let n = lowest; n <= 40; n++) {
      const r = under(n, ['read', input, '--workers', workers, '-o', path.join(out, 'flows.csv')]);
      const left = fs.readdirSync(out).filter((f) => f.endsWith('.tmp'));
      t.ok((r.status === 0 || r.status === 1) && !/FATAL|abort/i.test(r.stderr), `--workers ${workers}, ulimit -n ${n}: exit ${r.status ?? r.signal}, ${r.stderr.trim().split('\n').pop()}`);
      t.same(left, [], `--workers ${workers}, ulimit -n ${n}: no temporary left`);
      for (const f of left) fs.rmSync(path.join(out, f));
      if (r.status === 0) break; // enough descriptors from here on
    }
  }
});

// fork() that found no descriptor for a worker's channel gave the run's last word as
// 'child.send is not a function' (a second fault campaign's finding)
t.test('few descriptors for worker processes: one line naming the limit, never an internal error', async (t) => {
  const input = path.join(ROOT, 'samples', 'sample.pcap');
  const plugin = path.join(ROOT, 'bench', 'trivial-plugin.js');
  const out = fs.mkdtempSync(path.join(dir, 'fork-'));
  let named = false;
  for (let n = 18; n <= 40; n++) {
    const r = spawnSync('bash', ['-c', `ulimit -n ${n}; exec env -u NODE_OPTIONS "$0" "$@"`, process.execPath, BIN, 'read', input, input, '--plugin', plugin,
      '--workers', '2', '-o', path.join(out, 'flows.csv')], { encoding: 'utf8' });
    t.notMatch(r.stderr, /is not a function|\n\s+at /, `ulimit -n ${n}: no internal error (${r.stderr.trim().split('\n').pop()})`);
    named ||= /cannot start worker process \d of 2: this process has as many files open as it may/.test(r.stderr);
    if (r.status === 0) break;
  }
  t.ok(named, 'a limit where the workers cannot start is named');
  t.same(fs.readdirSync(out).filter((f) => f.endsWith('.tmp')), [], 'no temporary left');
});
