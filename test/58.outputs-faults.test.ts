/**
 * Outputs that never overwrite and never half-write, provoked: symlinks planted at the temporary's
 * and the final name, /dev/stdout pointing at a file, names already taken by rotated files, a ring
 * of N files, a disk that fills in the middle of a dataset, a single file or rotated files, an output
 * that cannot be opened, discard() in every mode; JSON Lines that JSON.parse always reads; option
 * values whose memory need passes the machine's, refused with the figure.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { checkMemoryNeed } from '../src/memory-need';
import { loadNative } from '../src/native';
import { OutputOptions, parseCaptureOptions, parseReadOptions } from '../src/options';
import { fieldsFor } from '../src/schema';
import { FlowBatch } from '../src/flow-batch';
import { Sink, WRITERS } from '../src/writers';
import { FlowOutput } from '../src/writers/output';
import { lit, query } from './helpers/duckdb';
import { DLT, ether, ipv4, pcap, tmpdir, udp } from './helpers/packets';
import { BIN, cli, NO_ORACLE, ORACLE, RUN_LIMIT } from './helpers/run';

const dir = path.join(tmpdir(), 'outputs');
fs.mkdirSync(dir);
const SAMPLE = path.join(__dirname, '..', '..', 'samples', 'sample.pcap');

/** 4000 one-packet UDP flows spread over six hours. */
const HOURS = path.join(dir, 'hours.pcap');
fs.writeFileSync(HOURS, pcap(DLT.EN10MB, Array.from({ length: 4000 }, (_, i) => ({
  t: 1_700_000_000 + i * (6 * 3600 / 4000),
  frame: ether(0x0800, ipv4(`10.4.${(i >> 8) & 255}.${i & 255}`, '10.5.0.2', 17, udp(i % 60000 + 1, 53))),
}))));

function walk(root: string): string[] {
  return fs.readdirSync(root, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(root, e.name)) : [path.join(root, e.name)]);
}
const temporaries = (root: string) => walk(root).filter((f) => f.endsWith('.tmp'));
const csvRows = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').length - 1;

const fields = fieldsFor({ decodeTunnels: true, stats: false, splt: 0, dissections: 0 });
/** n flows whose first and last packets are at firstMs */
const flows = (n: number, firstMs = 0) => new FlowBatch(fields, fields.map((f) => {
  if (f.type === 'string') return Array.from({ length: n }, (_, r) => `10.0.0.${r}`);
  return Float64Array.from({ length: n }, (_, r) => (f.name === 'id' ? r : f.name.endsWith('_seen_ms') ? firstMs : 1));
}), n);
const options = (o: Partial<OutputOptions>): OutputOptions => ({
  format: 'csv', compression: 'zstd', flowsPerFile: 0, rotateMs: 0, anonymize: [], rowGroupRows: 0, ...o,
});

t.test('symlinks planted at the temporary\'s old name and at the final name: the victim is unchanged', async (t) => {
  const d = path.join(dir, 'planted');
  fs.mkdirSync(d);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'precious\n');
  const final = path.join(d, 'flows.csv');
  // the names flowseek used to write: predictable from the pid
  fs.symlinkSync(victim, path.join(d, `.flows.csv.${process.pid}.tmp`));
  fs.symlinkSync(victim, final);
  const out = new FlowOutput(fields, options({ output: final }), 0);
  await out.write(flows(3));
  await out.close();
  t.equal(fs.readFileSync(victim, 'utf8'), 'precious\n', 'the victim is unchanged');
  t.ok(fs.lstatSync(final).isFile(), 'the final name is now a file of its own (the symlink replaced, not followed)');
  t.equal(csvRows(final), 3);
  t.equal(fs.lstatSync(final).mode & 0o777, 0o666 & ~process.umask(), 'mode 0666 less the umask');
  t.same(fs.readdirSync(d).filter((n) => n.endsWith('.tmp') && !n.includes(String(process.pid))), [], 'no temporary left');

  // the same through the CLI, with a symlink to the victim at the final name
  const viaCli = path.join(d, 'cli.csv');
  fs.symlinkSync(victim, viaCli);
  t.equal(cli(['read', SAMPLE, '-o', viaCli, '-q']).status, 0);
  t.equal(fs.readFileSync(victim, 'utf8'), 'precious\n', 'the victim is unchanged (CLI)');
  t.ok(fs.lstatSync(viaCli).isFile());
});

// A file replaced at -o came back 0666 less the umask and the runner's: a 0600 file of flows became
// readable by everyone, and one root replaced became root's.
const modes = path.join(dir, 'modes');
fs.mkdirSync(modes);
const modeOf = (f: string) => fs.lstatSync(f).mode & 0o7777;
/** three flows written to `file` through FlowOutput, as -o does */
async function writeTo(file: string, format: OutputOptions['format'] = 'csv'): Promise<void> {
  const out = new FlowOutput(fields, options({ output: file, format }), 0);
  await out.write(flows(3));
  await out.close();
}

t.test('a file replaced at -o keeps its mode, whatever the umask, less set-id bits; in every format', async (t) => {
  // set-id bits dropped: a data file is never run
  for (const [before, after] of [[0o600, 0o600], [0o640, 0o640], [0o444, 0o444], [0o666, 0o666], [0o6755, 0o755]]) {
    for (const format of ['csv', 'jsonl', 'parquet', 'arrow'] as const) {
      const file = path.join(modes, `was-${before.toString(8)}.${format}`);
      fs.writeFileSync(file, 'from before\n');
      fs.chmodSync(file, before);
      await writeTo(file, format);
      t.not(fs.readFileSync(file, 'utf8'), 'from before\n', `${format}: replaced`);
      t.equal(modeOf(file).toString(8), after.toString(8), `${format}: a ${before.toString(8)} file is replaced by a ${after.toString(8)} one`);
    }
  }
  // through the CLI, which looks whether it replaces a file before the run (replacesFile)
  const viaCli = path.join(modes, 'cli.parquet');
  fs.writeFileSync(viaCli, 'from before\n', { mode: 0o600 });
  t.equal(cli(['read', SAMPLE, '-o', viaCli, '-q']).status, 0);
  t.equal(modeOf(viaCli), 0o600, 'the CLI too');
});

t.test('a new file, and a symlink replaced at -o: 0666 less the umask, the symlink\'s target untouched', async (t) => {
  const fresh = path.join(modes, 'new.csv');
  await writeTo(fresh);
  t.equal(modeOf(fresh), 0o666 & ~process.umask(), 'a new file: 0666 less the umask, as before');

  // a symlink at the name is replaced, not followed: the mode of the file it points to is another file's
  const target = path.join(modes, 'private');
  fs.writeFileSync(target, 'private\n', { mode: 0o600 });
  const link = path.join(modes, 'link.csv');
  fs.symlinkSync(target, link);
  await writeTo(link);
  t.ok(fs.lstatSync(link).isFile(), 'the symlink is replaced by a file');
  t.equal(modeOf(link), 0o666 & ~process.umask(), 'with the mode of a new file, not its target\'s');
  t.equal(fs.readFileSync(target, 'utf8'), 'private\n', 'the symlink\'s target is unchanged');
  t.equal(modeOf(target), 0o600);
});

t.test('a file of another user replaced by root stays theirs', async (t) => {
  if (process.getuid?.() !== 0) {
    t.comment('skipped: giving a file to another user needs root');
    return;
  }
  const theirs = path.join(modes, 'theirs.csv');
  fs.writeFileSync(theirs, 'from before\n', { mode: 0o640 });
  fs.chownSync(theirs, 65534, 65534);
  await writeTo(theirs);
  const st = fs.lstatSync(theirs);
  t.not(fs.readFileSync(theirs, 'utf8'), 'from before\n', 'replaced');
  t.same([st.uid, st.gid, st.mode & 0o7777], [65534, 65534, 0o640], 'owned by 65534 and group 65534, 0640');
});

// The run's last write failing after it was accepted (a full device or disk), its error come before
// the output is closed: close() waited for a 'finish' the failed stream never sends, nothing else
// kept Node's loop alive, and the process ended with exit 0 and not a word (CI, test/55, once).
t.test('a write that fails before the output is closed: close() fails with it, it does not wait forever', async (t) => {
  const sink = Sink.file('/dev/full');
  await sink.write('a row\n'); // accepted: it fails on its way to the device
  await new Promise((resolve) => setTimeout(resolve, 100)); // the stream's error comes meanwhile
  const closed = await Promise.race([
    sink.close().then(() => 'closed', (e: Error) => e.message),
    new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000)),
  ]);
  t.match(closed, /cannot write \/dev\/full: no space left on the device/);
});

t.test('temporary names are unguessable and created exclusively', async (t) => {
  const d = path.join(dir, 'exclusive');
  fs.mkdirSync(d);
  const names = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const sink = Sink.file(path.join(d, 'f.csv'));
    const [temp] = fs.readdirSync(d).filter((n) => n.endsWith('.tmp'));
    t.match(temp, /^\.f\.csv\.[0-9a-f]{16}\.tmp$/);
    names.add(temp);
    sink.discard();
  }
  t.equal(names.size, 20, 'a new random name each time');
  t.same(fs.readdirSync(d), [], 'discard() leaves nothing');
});

t.test('a file\'s bytes are written out as they come: ranges in order, none twice; a file system that cannot is asked no more', async (t) => {
  const d = path.join(dir, 'writeback');
  fs.mkdirSync(d);
  const real = loadNative().startWriteback;
  const original = Sink.startWriteback;
  const chunk = Buffer.alloc(1 << 20, 0x61);
  const write = async (name: string, chunks: number) => {
    const sink = Sink.file(path.join(d, name));
    for (let i = 0; i < chunks; i++) await sink.write(chunk);
    await sink.close();
    return fs.statSync(path.join(d, name)).size;
  };
  const asked: [number, number][] = [];
  Sink.startWriteback = (fd, offset, length) => { asked.push([offset, length]); return real(fd, offset, length); };
  try {
    t.equal(await write('out.csv', 40), 40 << 20, 'every byte in the file');
    t.ok(asked.length >= 3, `write-out started ${asked.length} times for 40 MB`);
    t.ok(asked.every(([o, n], i) => o === (i ? asked[i - 1][0] + asked[i - 1][1] : 0) && n >= 8 << 20), 'each range where the last ended, 8 MB or more');
    t.ok(asked[asked.length - 1][0] + asked[asked.length - 1][1] <= 40 << 20, 'none past what was written');
    asked.length = 0;
    Sink.startWriteback = (_fd, offset, length) => { asked.push([offset, length]); return Promise.reject(Object.assign(new Error('no'), { code: 'EINVAL' })); };
    t.equal(await write('refused.csv', 40), 40 << 20, 'refused: every byte in the file still');
    t.equal(asked.length, 1, 'asked once, then no more');
    asked.length = 0;
    Sink.startWriteback = (_fd, offset, length) => { asked.push([offset, length]); throw new Error('thrown, not rejected'); };
    t.equal(await write('thrown.csv', 40), 40 << 20, 'a request that throws: every byte in the file still');
    t.equal(asked.length, 1, 'asked once, then no more');
  } finally {
    Sink.startWriteback = original;
  }
  t.same(fs.readdirSync(d).sort(), ['out.csv', 'refused.csv', 'thrown.csv'], 'no temporary left');
  // the call itself: a real range of a real file, and a descriptor that is no file
  const fd = fs.openSync(path.join(d, 'out.csv'), 'r+');
  await t.resolves(real(fd, 0, 1 << 20), 'a range of a file');
  fs.closeSync(fd);
  const fifo = path.join(d, 'fifo');
  spawnSync('mkfifo', [fifo]);
  const pipe = fs.openSync(fifo, 'r+'); // read and write: opens at once
  await t.rejects(real(pipe, 0, 1), { code: 'ESPIPE' }, 'a FIFO: rejected with ESPIPE');
  fs.closeSync(pipe);
  fs.unlinkSync(fifo);
  t.throws(() => real(-1, 0, 1), /needs a descriptor/, 'a descriptor that cannot be one: thrown');
});

t.test('-o /dev/stdout with standard output redirected to a file: written there, /dev/stdout left alone', async (t) => {
  const file = path.join(dir, 'redirected.parquet');
  const fd = fs.openSync(file, 'w');
  const r = spawnSync(process.execPath, [BIN, 'read', SAMPLE, '--parquet', '-o', '/dev/stdout', '-q'], { ...RUN_LIMIT, stdio: ['ignore', fd, 'pipe'] });
  fs.closeSync(fd);
  t.equal(r.status, 0, String(r.stderr));
  t.ok(fs.lstatSync('/dev/stdout').isSymbolicLink(), '/dev/stdout is still a symlink');
  t.same(fs.readdirSync('/dev').filter((n) => n.endsWith('.tmp')), [], 'no temporary in /dev');
  const rows = await query(`select count(*) from read_parquet(${lit(file)})`);
  const flowsInSample = cli(['read', SAMPLE, '-q']).stdout.trim().split('\n').length - 1;
  t.equal(rows.rows[0][0], flowsInSample, 'a whole Parquet file, every flow');
});

t.test('rotated files never replace a file already there', async (t) => {
  const d = path.join(dir, 'rotated');
  fs.mkdirSync(d);
  const out = path.join(d, 'flows.csv');
  fs.writeFileSync(path.join(d, 'flows.0.csv'), 'keep me\n');
  t.equal(cli(['read', HOURS, '-o', out, '--flows-per-file', '1000', '-q']).status, 0);
  t.equal(fs.readFileSync(path.join(d, 'flows.0.csv'), 'utf8'), 'keep me\n', 'flows.0.csv from before is untouched');
  t.same(fs.readdirSync(d).sort(), ['flows.0.csv', 'flows.1.csv', 'flows.2.csv', 'flows.3.csv', 'flows.4.csv']);
  t.equal(cli(['read', HOURS, '-o', out, '--flows-per-file', '1000', '-q']).status, 0);
  const second = ['flows.5.csv', 'flows.6.csv', 'flows.7.csv', 'flows.8.csv'];
  t.ok(second.every((n) => fs.existsSync(path.join(d, n))), 'a second run goes on after the highest number');
  t.equal(second.reduce((n, f) => n + csvRows(path.join(d, f)), 0), 4000, 'every flow of the second run once');

  // a name taken between the open and the publication: the file goes to the next one
  const taken = path.join(d, 'race.0.csv');
  let next = 0;
  const sink = Sink.file(taken, () => path.join(d, `race.${++next}.csv`));
  await sink.write('mine\n');
  fs.writeFileSync(taken, 'theirs\n');
  await sink.close();
  t.equal(fs.readFileSync(taken, 'utf8'), 'theirs\n', 'the file that took the name is kept');
  t.equal(fs.readFileSync(path.join(d, 'race.1.csv'), 'utf8'), 'mine\n', 'published under the next name');
  t.equal(sink.target, path.join(d, 'race.1.csv'));
  t.same(temporaries(d), []);
});

t.test('--rotate-files N: a ring of the run\'s newest N files', async (t) => {
  const d = path.join(dir, 'ring');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'flows.0.csv'), 'from before\n');
  const r = cli(['read', HOURS, '-o', path.join(d, 'flows.csv'), '--flows-per-file', '300', '--rotate-files', '3']);
  t.equal(r.status, 0, r.stderr);
  // 4000 flows, 300 a file: flows.1 to flows.14, the last with 100
  t.same(fs.readdirSync(d).sort(), ['flows.0.csv', 'flows.12.csv', 'flows.13.csv', 'flows.14.csv'],
    'the three newest, and the file from before the run');
  t.same(['flows.12.csv', 'flows.13.csv', 'flows.14.csv'].map((f) => csvRows(path.join(d, f))), [300, 300, 100]);
  t.equal(fs.readFileSync(path.join(d, 'flows.0.csv'), 'utf8'), 'from before\n');
  t.match(r.stderr, /14 output files written/);

  const timed = path.join(dir, 'ring-timed');
  fs.mkdirSync(timed);
  t.equal(cli(['read', HOURS, '-o', path.join(timed, 'f.jsonl'), '--rotate', '3600', '--rotate-files', '2', '-q']).status, 0);
  t.equal(fs.readdirSync(timed).length, 2, 'by flow time too');

  // by flow time, no ring: six hours of flows in six files of an hour each; the first file (opened
  // before any flow, to fail early) was published empty, its time taken as 1970
  const hourly = path.join(dir, 'hourly');
  fs.mkdirSync(hourly);
  t.equal(cli(['read', HOURS, '-o', path.join(hourly, 'f.csv'), '--rotate', '3600', '-q']).status, 0);
  const perFile = fs.readdirSync(hourly).sort((a, b) => parseInt(a.slice(2), 10) - parseInt(b.slice(2), 10)).map((f) => csvRows(path.join(hourly, f)));
  t.equal(perFile.length, 6, `six files (${perFile.join(', ')} flows)`);
  t.ok(perFile.every((n) => n >= 600 && n <= 700), 'each holds its hour\'s flows, the first too');
  t.equal(perFile.reduce((a, b) => a + b, 0), 4000);

  const output = path.join(d, 'x.csv');
  const fifo = path.join(d, 'rotate.fifo.csv');
  spawnSync('mkfifo', [fifo]);
  for (const [raw, message] of [
    [{ output, rotateFiles: '3' }, /"--rotate-files" goes with --flows-per-file or --rotate/],
    [{ output, rotateFiles: '3', flowsPerFile: '10', partition: 'hour' }, /cannot go with --partition/],
    [{ output, rotateFiles: '0', flowsPerFile: '10' }, /"--rotate-files" must be a whole number of files from 1 to 1000000000/],
    // numbered files beside a stream were made in /dev (/dev/stdout.0.csv), or beside a FIFO its reader never saw
    [{ output: '/dev/stdout', flowsPerFile: '5', csv: true }, /give a file's path with -o \(\/dev\/stdout is not a file\)/],
    [{ output: '/dev/null', rotate: '60', csv: true }, /give a file's path with -o \(\/dev\/null is not a file\)/],
    [{ output: fifo, flowsPerFile: '5' }, /give a file's path with -o \(.*rotate\.fifo\.csv is not a file\)/],
    // a name and a format flag that disagree: Arrow IPC was written into a .parquet
    [{ output: path.join(d, 'a.parquet'), format: 'arrow' }, /a\.parquet" is named for Parquet, but the format asked for is Arrow IPC/],
    [{ output: path.join(d, 'ds.csv'), parquet: true, partition: 'day' }, /ds\.csv" is named for CSV, but the format asked for is Parquet/],
  ] as const) {
    t.throws(() => parseReadOptions([SAMPLE], raw), { name: 'UsageError', message });
  }
  // a dataset folder named for a format holds parts of that format (flows.csv/ held Parquet parts)
  t.equal(parseReadOptions([SAMPLE], { output: path.join(d, 'flows.csv'), partition: 'day' }).format, 'csv');
  t.equal(parseReadOptions([SAMPLE], { output: path.join(d, 'flows'), partition: 'day' }).format, 'parquet');
});

t.test('an output that cannot be opened fails before any input is read', async (t) => {
  // a FIFO with no writer: opening it as the input would block, so an exit shows the output failed first
  const fifo = path.join(dir, 'never.fifo');
  spawnSync('mkfifo', [fifo]);
  const blocker = path.join(dir, 'a-file');
  fs.writeFileSync(blocker, '');
  for (const [args, message] of [
    [['-o', path.join(dir, 'missing', 'f.csv')], /cannot write .*missing\/f\.csv: the folder does not exist/],
    [['-o', path.join(dir, 'missing', 'f.csv'), '--flows-per-file', '10'], /the folder does not exist/],
    [['-o', blocker, '--partition', 'day'], /cannot write the dataset folder .*a-file: .*a-file is a file, not a folder$/m],
    // a rotated file's name grows with its number: refused at the start, not at a rotation mid-run
    [['-o', path.join(dir, `${'r'.repeat(241)}.csv`), '--flows-per-file', '10'],
      /the name is too long for numbered files \(--flows-per-file, --rotate\): at most 240 bytes before "\.csv" leave room/],
    // the kernel answers ENOENT in a folder that exists but takes no new files
    [['-o', '/proc/flowseek-test.csv'], /cannot write \/proc\/flowseek-test\.csv: no file can be made in this folder$/m],
    [['-o', '/proc/flowseek-test', '--partition', 'day', '--format', 'csv'], /dataset folder \/proc\/flowseek-test: no file can be made in this folder$/m],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, 'read', fifo, ...args], { encoding: 'utf8', timeout: 20_000 });
    t.equal(r.status, 1, `${args.join(' ')}: exit 1 without waiting for the input`);
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

t.test('a partition folder that is a file is named in the error, not the dataset folder', async (t) => {
  const ds = path.join(dir, 'dt-file');
  fs.mkdirSync(ds);
  fs.writeFileSync(path.join(ds, 'dt=2023-11-14'), 'not a folder\n'); // the day HOURS begins
  const r = cli(['read', HOURS, '-o', ds, '--partition', 'day', '--format', 'csv']);
  t.equal(r.status, 1);
  t.match(r.stderr, /^flowseek: error: cannot write .*dt-file: .*dt-file\/dt=2023-11-14 is a file, not a folder[;\n]/m);
  t.same(temporaries(ds), [], 'no temporary');
});

t.test('a dataset\'s parts left half-written by a run killed outright are named by the next run, and left', async (t) => {
  const ds = path.join(dir, 'left-parts');
  fs.mkdirSync(path.join(ds, 'dt=2020-01-01', 'hour=03'), { recursive: true });
  const left = ['dt=2020-01-01/.part-0.csv.0123456789abcdef.tmp', 'dt=2020-01-01/hour=03/.part-2.csv.fedcba9876543210.tmp'];
  for (const f of left) fs.writeFileSync(path.join(ds, f), 'id,\n');
  const r = cli(['read', HOURS, '-o', ds, '--partition', 'day', '--format', 'csv']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, `flowseek: warning: in ${ds}, 2 temporary parts of runs killed before they finished (or still running, or that could not rename them: ` +
    `their errors said so): ${left.join(', ')}; remove them if no other run writes there and no error of a run named them\n`);
  for (const f of left) t.ok(fs.existsSync(path.join(ds, f)), `${f} left (another run may be writing it)`);
});

// A name close to the limit of a file name (255 bytes): the temporary's longer name was refused, so
// a name the file system allows could not be written. Past the limit: refused before any reading.
t.test('an output name near the 255-byte limit is written; one past it is refused up front', async (t) => {
  const own = path.join(dir, 'long-names');
  fs.mkdirSync(own);
  const near = path.join(own, `${'é'.repeat(100)}${'n'.repeat(51)}.csv`); // 255 bytes of UTF-8
  t.equal(Buffer.byteLength(path.basename(near)), 255);
  const ok = cli(['read', SAMPLE, '-o', near]);
  t.equal(ok.status, 0, `exit 0 (${ok.stderr.trim()})`);
  t.equal(csvRows(near), 6, 'the sample\'s six flows');
  t.same(temporaries(own), [], 'no temporary left');
  const far = path.join(own, `${'f'.repeat(252)}.csv`);
  const r = cli(['read', HOURS, '-o', far]);
  t.equal(r.status, 1);
  t.equal(r.stderr, `flowseek: error: cannot write ${far}: the name is too long\n`, 'one line, before any flow');
  t.notOk(fs.existsSync(far));
  // rotated: the longest name that leaves room for a ten-digit number
  const rotated = path.join(own, `${'r'.repeat(240)}.csv`);
  const rot = cli(['read', SAMPLE, '-o', rotated, '--flows-per-file', '2']);
  t.equal(rot.status, 0, `rotated, exit 0 (${rot.stderr.trim()})`);
  t.same([0, 1, 2].map((n) => csvRows(path.join(own, `${'r'.repeat(240)}.${n}.csv`))), [2, 2, 2], 'three files of two flows');
});

t.test('discard() leaves no temporary file in any mode', async (t) => {
  const modes: [string, Partial<OutputOptions>][] = [
    ['one CSV file', { output: 'one.csv' }],
    ['one Parquet file', { output: 'one.parquet', format: 'parquet' }],
    ['JSON Lines rotated by count', { output: 'rot.jsonl', format: 'jsonl', flowsPerFile: 4 }],
    ['Parquet rotated by time', { output: 'time.parquet', format: 'parquet', rotateMs: 1000 }],
    ['a ring', { output: 'ring.csv', flowsPerFile: 4, rotateFiles: 1 }],
    ['a dataset', { output: 'ds', format: 'parquet', partition: 'hour', flowsPerFile: 4 }],
  ];
  for (const [name, o] of modes) {
    const d = path.join(dir, 'discard', name.replace(/ /g, '-'));
    fs.mkdirSync(d, { recursive: true });
    const out = new FlowOutput(fields, options({ ...o, output: path.join(d, o.output as string) }), 0);
    await out.write(flows(10, 0));
    await out.write(flows(3, 7200e3));
    out.discard();
    t.same(temporaries(d), [], `${name}: no temporary`);
    for (const f of out.written) t.ok(fs.existsSync(f) || o.rotateFiles, `${name}: ${path.basename(f)}, published before, stays`);
  }
});

// Sparse traffic over many hours: every flow ends at the end of the input, in one batch, each of its
// own hour. The open partitions were limited once the batch was written, so it held a file (and a
// Parquet writer's buffers) for each of them: past 1,024 descriptors at 3,000 hours (EMFILE,
// nothing published), 1 GB of memory where the descriptors sufficed.
t.test('a batch of flows from 300 hours, with 64 descriptors: every partition written, few files open at once', async (t) => {
  const sparse = path.join(dir, 'sparse-hours.pcap');
  fs.writeFileSync(sparse, pcap(DLT.EN10MB, Array.from({ length: 300 }, (_, i) => ({
    t: 1_700_000_000 + i * 3600,
    frame: ether(0x0800, ipv4(`10.6.${i >> 8}.${i & 255}`, '10.7.0.2', 17, udp(1000 + i, 53))),
  }))));
  for (const format of ['csv', 'parquet']) {
    const ds = path.join(dir, `sparse-${format}`);
    const r = spawnSync('bash', ['-c', `ulimit -n 64; exec env -u NODE_OPTIONS "${process.execPath}" "${BIN}" read "${sparse}" -o "${ds}" --partition hour --format ${format} -q`],
      { encoding: 'utf8' });
    t.equal(r.status, 0, `${format}: exit 0`);
    t.equal(r.stderr, '', `${format}: nothing said`);
    const parts = walk(ds).filter((f) => f.endsWith(`.${format}`));
    t.equal(parts.length, 300, `${format}: a part for each hour`);
    t.same(temporaries(ds), []);
  }
});

// Out of descriptors, the error said Node's words ("EMFILE: too many open files, scandir ...")
t.test('no descriptor left to open the output: said in words', async (t) => {
  const sink = path.join(__dirname, '..', 'src', 'writers', 'sink.js');
  const script = `const fs = require('fs'); const { Sink } = require(${JSON.stringify(sink)});
    try { for (;;) fs.openSync('/dev/null', 'r'); } catch (e) { if (e.code !== 'EMFILE') throw e; }
    try { Sink.file(${JSON.stringify(path.join(dir, 'no-fd.csv'))}); } catch (e) { console.log(e.message); }`;
  const r = spawnSync('bash', ['-c', 'ulimit -n 64; exec env -u NODE_OPTIONS "$0" -e "$1"', process.execPath, script], { encoding: 'utf8' });
  t.equal(r.stdout, `cannot write ${path.join(dir, 'no-fd.csv')}: this process has as many files open as it may (ulimit -n, LimitNOFILE)\n`);
  t.equal(r.status, 0);
});

// A FIFO's reader that leaves early: said in Node's words ("write EPIPE") before
t.test('an output FIFO whose reader leaves before the end: exit 1, said in words', async (t) => {
  const fifo = path.join(dir, 'early-leaver.fifo');
  spawnSync('mkfifo', [fifo]);
  const { spawn } = await import('node:child_process');
  const reader = spawn('head', ['-c', '100', fifo], { stdio: 'ignore' });
  const r = cli(['read', HOURS, '--csv', '--stats', '-o', fifo]);
  reader.kill();
  t.equal(r.status, 1);
  t.equal(r.stderr, `flowseek: error: cannot write ${fifo}: its reader went away before every flow was written\n`);
});

t.test('a full disk: exit 1, one line, no temporary, the files published before it whole and named', async (t) => {
  const mnt = path.join(dir, 'small');
  fs.mkdirSync(mnt);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'none', mnt]).status !== 0) {
    t.comment('skipped: mounting a small tmpfs needs root (CAP_SYS_ADMIN)');
    t.end();
    return;
  }
  t.teardown(() => { spawnSync('umount', [mnt]); });
  const clear = () => { for (const n of fs.readdirSync(mnt)) fs.rmSync(path.join(mnt, n), { recursive: true }); };

  // a dataset: parts published in two partitions before the disk fills
  for (const format of ['csv', 'parquet']) {
    clear();
    const ds = path.join(mnt, 'ds');
    const extra = format === 'parquet' ? ['--splt', '30', '--row-group-rows', '100', '--flows-per-file', '400'] : ['--flows-per-file', '200'];
    const r = cli(['read', HOURS, '-o', ds, '--partition', 'hour', '--format', format, '--stats', ...extra]);
    // the same dataset where there is room: a part published before the disk filled has its rows
    // (a part's last rows come when its hour ends, whenever the batch that ends it comes)
    const roomy = path.join(dir, `roomy-${format}`);
    t.equal(cli(['read', HOURS, '-o', roomy, '--partition', 'hour', '--format', format, '--stats', ...extra]).status, 0);
    t.equal(r.status, 1, `${format} dataset: exit 1`);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.match(r.stderr, /^flowseek: error: cannot write .*part-\d+\.\w+: no space left on the device; the \d+ files published before it in .* are whole: /);
    const named = (/are whole: (.*)$/m.exec(r.stderr)?.[1] ?? '').split(', ').map((n) => path.join(ds, n));
    t.ok(named.length >= 2, `${named.length} files named`);
    // the dataset's schema record aside
    t.same(walk(ds).filter((f) => path.basename(f) !== '_flowseek_schema.json').sort(), named.sort(), 'the files on disk are the ones named, and no temporary');
    const rowsOf = async (f: string) => format === 'csv' ? csvRows(f) : Number((await query(`select count(*) from read_parquet(${lit(f)})`)).rows[0][0]);
    for (const f of named) {
      const whole = await rowsOf(path.join(roomy, path.relative(ds, f)));
      t.ok(whole > 0 && whole <= (format === 'csv' ? 200 : 400), `${path.relative(ds, f)}: a part of at most --flows-per-file rows`);
      t.equal(await rowsOf(f), whole, `${path.relative(ds, f)}: whole, every row`);
    }
  }

  // one file: the previous one at the final name stays
  clear();
  fs.writeFileSync(path.join(mnt, 'flows.csv'), 'previous\n');
  const one = cli(['read', HOURS, '-o', path.join(mnt, 'flows.csv'), '--stats']);
  t.equal(one.status, 1);
  t.equal(one.stderr, `flowseek: error: cannot write ${path.join(mnt, 'flows.csv')}: no space left on the device\n`);
  t.same(fs.readdirSync(mnt), ['flows.csv'], 'no temporary');
  t.equal(fs.readFileSync(path.join(mnt, 'flows.csv'), 'utf8'), 'previous\n', 'the previous file is not replaced');

  // rotated files: the one there before stays, those published are whole
  clear();
  fs.writeFileSync(path.join(mnt, 'rot.0.csv'), 'previous\n');
  const rot = cli(['read', HOURS, '-o', path.join(mnt, 'rot.csv'), '--stats', '--flows-per-file', '300']);
  t.equal(rot.status, 1);
  t.equal(rot.stderr.trim().split('\n').length, 1, 'one line');
  t.match(rot.stderr, /no space left on the device; the \d+ files published before it are whole: rot\.1\.csv, rot\.2\.csv/);
  t.equal(fs.readFileSync(path.join(mnt, 'rot.0.csv'), 'utf8'), 'previous\n');
  t.same(temporaries(mnt), []);
  for (const f of fs.readdirSync(mnt).filter((n) => n !== 'rot.0.csv')) t.equal(csvRows(path.join(mnt, f)), 300, `${f} whole`);

  // a dataset whose schema record finds no room: its temporary was left behind (empty)
  clear();
  const filler = fs.openSync(path.join(mnt, 'filler'), 'w');
  try {
    for (const block = Buffer.alloc(4096); ;) fs.writeSync(filler, block);
  } catch { /* full */ } finally {
    fs.closeSync(filler);
  }
  const ds = path.join(mnt, 'ds');
  const schema = cli(['read', SAMPLE, '-o', ds, '--partition', 'hour']);
  t.equal(schema.status, 1);
  t.match(schema.stderr, new RegExp(`^flowseek: error: cannot write ${ds}/_flowseek_schema\\.json: no space left on the device[^\\n]*\\n$`));
  t.same(walk(mnt).map((f) => path.relative(mnt, f)), ['filler'], 'nothing but the filler: no temporary, no schema');
});

// A service's file size limit (LimitFSIZE, ulimit -f): the write fails with EFBIG (Node ignores
// SIGXFSZ). No root needed: the limit is the shell's, in 512-byte blocks.
t.test('a file size limit reached: exit 1, one line that names it, no temporary, the previous file kept', async (t) => {
  const lim = path.join(dir, 'limited');
  fs.mkdirSync(lim);
  for (const format of ['csv', 'parquet']) {
    const out = path.join(lim, `flows.${format}`);
    fs.writeFileSync(out, 'previous\n');
    // the test runner puts its loader back into NODE_OPTIONS of whatever it spawns: env(1) takes it out
    const r = spawnSync('bash', ['-c', `ulimit -f 64; exec env -u NODE_OPTIONS "${process.execPath}" "${BIN}" read "${HOURS}" -o "${out}" --stats --splt 30`],
      { encoding: 'utf8' });
    t.equal(r.status, 1, `${format}: exit 1`);
    t.equal(r.stderr, `flowseek: error: cannot write ${out}: the file size limit of this process is reached (ulimit -f, LimitFSIZE)\n`);
    t.same(fs.readdirSync(lim).filter((n) => n.includes(format)), [`flows.${format}`], `${format}: no temporary`);
    t.equal(fs.readFileSync(out, 'utf8'), 'previous\n', `${format}: the previous file is not replaced`);
  }
});

// Standard output redirected to a file: Node's own stream for it writes each chunk once and drops
// what a short write left, so a limit reached inside the last chunk (here the only one: JSON Lines
// of the sample, 13 kB) lost its tail and the run exited 0.
t.test('standard output to a file that reaches its limit: exit 1 and one line, not a silent short file', async (t) => {
  const lim = path.join(dir, 'limited-stdout');
  fs.mkdirSync(lim);
  for (const format of ['jsonl', 'csv']) {
    const out = path.join(lim, `flows.${format}`);
    const r = spawnSync('bash', ['-c', `ulimit -f 1; exec env -u NODE_OPTIONS "${process.execPath}" "${BIN}" read "${SAMPLE}" --${format} --stats > "${out}"`],
      { encoding: 'utf8' });
    t.equal(r.status, 1, `${format}: exit 1`);
    t.equal(r.stderr, 'flowseek: error: cannot write standard output: the file size limit of this process is reached (ulimit -f, LimitFSIZE)\n');
    t.equal(fs.statSync(out).size, 1024, `${format}: the file holds what the limit let through (bash counts 1024-byte blocks)`);
  }
  // within the limit, the same redirection writes every byte
  const whole = path.join(lim, 'whole.jsonl');
  const r = spawnSync('bash', ['-c', `exec env -u NODE_OPTIONS "${process.execPath}" "${BIN}" read "${HOURS}" --jsonl --stats --splt 30 -q > "${whole}"`],
    { encoding: 'utf8' });
  t.equal(r.status, 0);
  const piped = spawnSync(process.execPath, [BIN, 'read', HOURS, '--jsonl', '--stats', '--splt', '30', '-q'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  t.ok(piped.stdout.length > 100_000, 'many chunks');
  t.equal(fs.readFileSync(whole, 'utf8'), piped.stdout, 'the same bytes as through a pipe');
});

t.test('JSON Lines: never a bare NaN or Infinity', { skip: NO_ORACLE }, async (t) => {
  const batch = flows(2);
  const packets = fields.findIndex((f) => f.name === 'bidirectional_packets');
  (batch.columns[packets] as Float64Array).set([Infinity, -Infinity]);
  const sizes = fieldsFor({ decodeTunnels: true, stats: false, splt: 2, dissections: 0 });
  const withList = new FlowBatch(sizes, sizes.map((f) => {
    if (f.type === 'string') return ['a'];
    if (f.type.startsWith('list')) return { n: 2, values: Float64Array.of(NaN, 5) };
    return Float64Array.of(f.name === 'bidirectional_packets' ? NaN : 1);
  }), 1);
  const file = path.join(dir, 'nonfinite.jsonl');
  const w = WRITERS.jsonl(fields, Sink.file(file));
  await w.write(batch);
  await w.close();
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.same(rows.map((r) => r.bidirectional_packets), [null, null], '±Infinity as null');
  const listFile = path.join(dir, 'nonfinite-list.jsonl');
  const lw = WRITERS.jsonl(sizes, Sink.file(listFile));
  await lw.write(withList);
  await lw.close();
  const row = JSON.parse(fs.readFileSync(listFile, 'utf8'));
  t.equal(row.bidirectional_packets, null, 'NaN as null');
  t.same(row.splt_ps, [null, 5], 'in a list too');

  // a plugin's ratios divided by zero
  const plugin = path.join(dir, 'ratio.js');
  fs.writeFileSync(plugin, `module.exports = { name: 'ratio', onExpire(flow) {
    flow.udps.per_ms = flow.bidirectional_bytes / 0;
    flow.udps.drop = -flow.bidirectional_bytes / 0; } };\n`);
  const viaPlugin = cli(['read', SAMPLE, '--jsonl', '--plugin', plugin, '--dissections', '0', '-q']);
  t.equal(viaPlugin.status, 0, viaPlugin.stderr);
  const parsed = viaPlugin.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.ok(parsed.length > 0 && parsed.every((f) => f.udps_per_ms === null), 'Infinity from a plugin: null');
  t.ok(parsed.every((f) => f.udps_drop === null), '-Infinity from a plugin: null');

  const all = fs.readdirSync(path.join(ORACLE, 'pcaps')).sort().map((f) => path.join(ORACLE, 'pcaps', f));
  const out = path.join(dir, 'oracle.jsonl');
  const r = cli(['read', ...all, '-o', out, '--stats', '--splt', '5', '--activity-features', '-q']);
  t.equal(r.status, 0, r.stderr);
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  const bad = lines.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } });
  t.equal(bad.length, 0, `all ${lines.length} lines of every oracle capture parse${bad.length ? `; first bad: ${bad[0].slice(0, 200)}` : ''}`);
});

t.test('options whose memory need passes the machine\'s: refused up front with the figure', async (t) => {
  const never = path.join(dir, 'never.parquet');
  const r = cli(['read', SAMPLE, '--max-active-flows', '1000000000', '--payload-bytes', '65535', '-o', never]);
  t.equal(r.status, 2, 'a usage error');
  t.match(r.stderr, /^flowseek: error: --max-active-flows 1000000000 with --payload-bytes 65535 could need 6\d TB of memory; this machine has [\d.]+ (MB|GB|TB): lower one of them\n$/);
  t.notOk(fs.existsSync(never), 'nothing written');
  for (const [raw, flag] of [
    [{ headerBytes: '255', headerWidth: '1024' }, /--max-active-flows 1000000 \(the default\) with --header-bytes 255 --header-width 1024 could need/],
    [{ splt: '255', maxActiveFlows: '1000000000' }, /--max-active-flows 1000000000 with --splt 255 could need/],
    [{ batchSize: '1048576', payloadBytes: '65535' }, /--batch-size 1048576 with --payload-bytes 65535 could need/],
    [{ rowGroupRows: '16777216', payloadBytes: '65535', output: never }, /--row-group-size 16777216 with --payload-bytes 65535 could need/],
  ] as const) {
    t.throws(() => parseReadOptions([SAMPLE], raw), { name: 'UsageError', message: flag });
  }
  t.doesNotThrow(() => parseReadOptions([SAMPLE], { payloadBytes: '1500', splt: '20', stats: true, batchSize: '65536', maxActiveFlows: '0' }),
    'ordinary values pass');

  // the defaults pass even on a small machine; a lot more than them does not
  const gb = 1e9;
  const read = parseReadOptions([SAMPLE], {});
  const defaults = { ...read };
  const machine = { bytes: 0.5 * gb, by: 'this machine has' };
  t.doesNotThrow(() => checkMemoryNeed(read, defaults, machine), 'the defaults pass with 0.5 GB');
  const wide = parseReadOptions([SAMPLE], { payloadBytes: '1500' });
  t.throws(() => checkMemoryNeed(wide, defaults, machine), /--max-active-flows 1000000 \(the default\) with --payload-bytes 1500 could need [\d.]+ GB of memory; this machine has 500 MB/);
  // under ulimit -v the limit is the process's, said as such (it ran into it: V8's fatal error and stack)
  const limited = spawnSync('sh', ['-c', `ulimit -v 2000000; exec "$0" "$@"`, process.execPath, BIN, 'read', SAMPLE, '--payload-bytes', '1500', '-o', '/dev/null', '--csv'],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  t.equal(limited.status, 2, limited.stderr);
  t.match(limited.stderr, /could need [\d.]+ GB of memory; this process may map \(ulimit -v\) 2\.0 GB: lower one of them\n$/);
  // libuv started its pool at the first work and, when the threads' stacks did not fit, ended the
  // process without a word (exit 134), the output's temporary left beside an earlier file: the
  // threads start before any output is opened now (1,024 of them need 8 GB here)
  const poolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-pool-'));
  t.teardown(() => fs.rmSync(poolDir, { recursive: true, force: true }));
  const earlier = path.join(poolDir, 'flows.csv');
  fs.writeFileSync(earlier, 'earlier\n');
  // (env -u: tap puts its own loader back into a child's NODE_OPTIONS, and that loader starts the pool)
  const pool = spawnSync('sh', ['-c', `ulimit -v 2000000; exec env -u NODE_OPTIONS UV_THREADPOOL_SIZE=1024 "$0" "$@"`, process.execPath, BIN,
    'read', SAMPLE, '-o', earlier], { encoding: 'utf8' });
  t.equal(pool.status, 1, `${pool.signal} ${pool.stderr}`);
  t.match(pool.stderr, /^flowseek: error: could not start the threads a run needs \([^)]+\): this process may map \(ulimit -v\) 2\.0 GB of memory, or the processes its user may run \(ulimit -u\) are too few\n$/);
  t.equal(fs.readFileSync(earlier, 'utf8'), 'earlier\n', 'the earlier file kept');
  t.same(fs.readdirSync(poolDir), ['flows.csv'], 'no temporary left');
  t.doesNotThrow(() => parseCaptureOptions({ interface: 'lo' }, 256), 'capture\'s default workers (cores - 1) pass');
  t.throws(() => parseCaptureOptions({ interface: 'lo', workers: '64', payloadBytes: '65535' }, os.availableParallelism()), /--workers 64/);
});

// One table of system errors in words (src/system-errors.ts) for inputs, outputs and sockets: each
// context's own words first, then the table's, then libuv's for the errno; never "EXXX: ..., open".
t.test('system errors in words: the context, the table, then libuv', async (t) => {
  const { systemErrorWords } = await import('../src/system-errors');
  const { describe } = await import('../src/writers/sink');
  const failure = (code: string, errno: number, message: string) => Object.assign(new Error(message), { code, errno });
  t.equal(describe(failure('EPIPE', -32, 'write EPIPE')), 'its reader went away before every flow was written');
  t.equal(describe(failure('EMFILE', -24, 'EMFILE: too many open files, open \'x\'')), 'this process has as many files open as it may (ulimit -n, LimitNOFILE)');
  t.equal(systemErrorWords(failure('EACCES', -13, 'EACCES'), { EACCES: 'own words' }), 'own words');
  t.equal(systemErrorWords(failure('ETXTBSY', -26, 'ETXTBSY: text file is busy, open \'x\'')), 'text file is busy', 'libuv\'s words for a code the table has not');
  t.equal(systemErrorWords(new Error('plain')), 'plain');
});

// -o naming an input replaced the capture by its own flows, exit 0 (a fault campaign's finding)
t.test('-o naming an input file is refused before anything is read; a symlink there is replaced, not its input', async (t) => {
  const work = path.join(dir, 'input-as-output');
  fs.mkdirSync(work, { recursive: true });
  const input = path.join(work, 'in.pcap');
  const other = path.join(work, 'other.pcap');
  fs.copyFileSync(SAMPLE, input);
  fs.copyFileSync(SAMPLE, other);
  const before = fs.readFileSync(input);
  fs.symlinkSync(input, path.join(work, 'via-link.pcap'));
  for (const [files, out] of [[[input], input], [[input], `${work}/./in.pcap`], [[other, input], input], [[path.join(work, 'via-link.pcap')], input]] as const) {
    for (const format of ['csv', 'parquet']) {
      const r = cli(['read', ...files, '--format', format, '-o', out]);
      t.equal(r.status, 2, `${files.join(' ')} -o ${out} (${format}): usage error`);
      t.match(r.stderr, /^flowseek: error: "-o" names an input file \(.*\): the capture would be replaced by its flows; give the flows a file of their own\n$/);
      t.same(fs.readFileSync(input), before, 'the capture untouched');
    }
  }
  // standard input redirected from the output file; the input given again as a descriptor to write
  for (const script of ['exec "$0" "$1" read - --csv -o "$2" < "$2"', 'exec "$0" "$1" read "$2" --csv -o /dev/fd/5 5<>"$2"']) {
    const r = spawnSync('bash', ['-c', script, process.execPath, BIN, input], { encoding: 'utf8' });
    t.equal(r.status, 2, `${script}: usage error`);
    t.match(r.stderr, /^flowseek: error: "-o" names an input file \(.*\): the capture would be replaced by its flows/);
    t.same(fs.readFileSync(input), before, 'the capture untouched');
  }
  // a descriptor given for reading is not opened again for writing (the flows were appended to it)
  const other2 = path.join(work, 'other2.pcap');
  fs.copyFileSync(SAMPLE, other2);
  const reading = spawnSync('bash', ['-c', 'exec "$0" "$1" read "$2" --csv -o /dev/fd/5 5<"$3"', process.execPath, BIN, input, other2], { encoding: 'utf8' });
  t.equal(reading.status, 1);
  t.match(reading.stderr, /^flowseek: error: cannot write \/dev\/fd\/5: descriptor 5 was given for reading \(.*\), not writing\n$/);
  t.same(fs.readFileSync(other2), before, 'the file behind it untouched');
  t.same(temporaries(work), [], 'no temporary');
  // a symlink at the name is replaced, as ever: the capture it pointed to stays
  const link = path.join(work, 'link.csv');
  fs.symlinkSync(input, link);
  t.equal(cli(['read', input, '--csv', '-o', link, '-q']).status, 0);
  t.notOk(fs.lstatSync(link).isSymbolicLink(), 'the link replaced by the flows');
  t.same(fs.readFileSync(input), before, 'its target untouched');
});

// -o /dev/fd/N for a descriptor the caller never gave wrote into Node's own: its wake-up pipe took
// the flows (exit 0, nothing written) or crashed the exit (SIGSEGV); a fault campaign's finding
t.test('-o /dev/fd/N: a descriptor given is written; one of the runtime\'s own is refused in one line', async (t) => {
  const work = path.join(dir, 'descriptors');
  fs.mkdirSync(work, { recursive: true });
  const want = cli(['read', SAMPLE, '--csv', '-q']).stdout;
  const refused: string[] = [];
  // which descriptors Node holds, and which it marks, varies with the version: a range is tried
  const targets = [...Array.from({ length: 10 }, (_, i) => `/dev/fd/${i + 3}`), ...Array.from({ length: 5 }, (_, i) => `/proc/self/fd/${i + 4}`)];
  for (const target of targets) {
    const r = spawnSync(process.execPath, [BIN, 'read', SAMPLE, '--csv', '-q', '-o', target], { encoding: 'utf8', ...RUN_LIMIT });
    t.equal(r.signal, null, `${target}: no crash`);
    if (r.status === 0) continue; // /dev/null, which Node holds open: nothing lost that was asked for
    t.equal(r.status, 1, `${target}: exit 1`);
    t.match(r.stderr, new RegExp(`^flowseek: error: cannot write ${target}: [^\\n]+\\n$`), `${target}: one line`);
    if (/the runtime's own/.test(r.stderr)) refused.push(target);
  }
  t.ok(refused.some((f) => f.startsWith('/dev/fd/')) && refused.some((f) => f.startsWith('/proc/self/fd/')), `Node's own descriptors refused (${refused.length})`);
  // given: a file on descriptor 5, and standard output's pipe again as 5
  const file = path.join(work, 'five.csv');
  const fd = fs.openSync(file, 'w');
  const given = spawnSync(process.execPath, [BIN, 'read', SAMPLE, '--csv', '-q', '-o', '/dev/fd/5'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', fd] });
  fs.closeSync(fd);
  t.equal(given.status, 0, given.stderr);
  t.equal(fs.readFileSync(file, 'utf8'), want, 'every flow in the file given as descriptor 5');
  const piped = spawnSync('bash', ['-c', `exec "$0" "$1" read "$2" --csv -q -o /dev/fd/5 5>&1`, process.execPath, BIN, SAMPLE], { encoding: 'utf8' });
  t.equal(piped.status, 0, piped.stderr);
  t.equal(piped.stdout, want, 'every flow through standard output\'s pipe given again as 5');
});

// A temporary written whole and synced, whose rename failed (its folder made read-only, a folder
// made at the name), was removed with every flow in it, or, itself unremovable, called half-written
// and to be removed (a fault campaign's finding): it is the only copy, so it stays and is named
t.test('a whole temporary that cannot be given its name stays, named in the error', async (t) => {
  const d = path.join(dir, 'kept-whole');
  fs.mkdirSync(d, { recursive: true });
  const target = path.join(d, 'flows.csv');
  const sink = Sink.file(target);
  await sink.write('id,src_ip\n1,10.0.0.1\n');
  fs.mkdirSync(target); // the name is a folder now: the rename fails (EISDIR)
  fs.writeFileSync(path.join(target, 'inside'), '');
  let message = '';
  await sink.close().catch((e: Error) => { message = e.message; });
  const temp = /what it holds is whole in (\S+), which could not be given its name: rename it$/.exec(message)?.[1];
  t.match(message, new RegExp(`^cannot write ${target}: is a directory; what it holds is whole in `), message);
  t.ok(temp && fs.existsSync(temp), 'the temporary is there');
  t.equal(temp && fs.readFileSync(temp, 'utf8'), 'id,src_ip\n1,10.0.0.1\n', 'with every byte');
  sink.discard(); // the run's error path: the whole temporary is not removed
  t.ok(temp && fs.existsSync(temp), 'still there after the error path\'s discard');
  t.equal(sink.leftBehind, undefined, 'not called half-written');
});

// A replaced file's access list (ACL) was dropped: its mode alone gave its group the list's mask and
// took from a named user what the list gave (a second fault campaign's finding). Node cannot write
// the list's attribute: python3's standard library does, where the machine and file system allow.
t.test('a replaced file keeps its access list (ACL)', async (t) => {
  const d = path.join(dir, 'acl');
  fs.mkdirSync(d, { recursive: true });
  const target = path.join(d, 'flows.csv');
  fs.writeFileSync(target, 'old\n', { mode: 0o600 });
  // user::rw- user:65534:r-- group::--- mask::r-- other::---
  const xattr = (code: string) => spawnSync('python3', ['-c', `import os, struct, sys\n${code}`, target], { encoding: 'utf8' });
  const set = xattr(`U = 0xffffffff
entries = [(1, 6, U), (2, 4, 65534), (4, 0, U), (0x10, 4, U), (0x20, 0, U)]
os.setxattr(sys.argv[1], 'system.posix_acl_access', struct.pack('<I', 2) + b''.join(struct.pack('<HHI', *e) for e in entries))`);
  if (set.status !== 0) {
    t.comment(`no access list can be set here (${set.stderr.trim().split('\n').pop() ?? 'python3'}): not run`);
    return;
  }
  const before = xattr("print(os.getxattr(sys.argv[1], 'system.posix_acl_access').hex())").stdout;
  const r = cli(['read', SAMPLE, '--csv', '-q', '-o', target]);
  t.equal(r.status, 0, r.stderr);
  t.equal(csvRows(target), 6, 'the flows written');
  t.equal(xattr("print(os.getxattr(sys.argv[1], 'system.posix_acl_access').hex())").stdout, before, 'the same access list');
  t.equal(fs.statSync(target).mode & 0o777, 0o640, 'group bits: the list\'s mask, as before');
});

// A standard output the caller closed (>&-) took the flows into the /dev/null Node puts in its
// place, exit 0 (a second fault campaign's finding): a shell's own `echo x >&-` fails
t.test('standard output closed by the caller: one line, exit 1; /dev/null given is still written', async (t) => {
  for (const args of [['--csv'], ['--csv', '-o', '/dev/stdout']]) {
    const r = spawnSync('bash', ['-c', 'exec "$0" "$@" >&-', process.execPath, BIN, 'read', SAMPLE, ...args], { encoding: 'utf8' });
    t.equal(r.status, 1, args.join(' '));
    t.match(r.stderr, /^flowseek: error: cannot write (standard output|\/dev\/stdout): (it|standard output) was closed when flowseek started \(Node put \/dev\/null in its place\)/);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  const discarded = spawnSync('bash', ['-c', 'exec "$0" "$@" >/dev/null', process.execPath, BIN, 'read', SAMPLE, '--csv', '-q'], { encoding: 'utf8' });
  t.equal(discarded.status, 0, 'sent to /dev/null: written there, as asked');
});
