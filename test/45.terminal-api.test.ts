/** The progress line on a terminal (and nowhere else), and the programmatic API. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { FlowStreamer, parseMeterOptions, toCsv, toParquet } from '../src/index';
import { lit, query } from './helpers/duckdb';
import { tmpdir } from './helpers/packets';
import { replicate } from './helpers/replicate';
import { BIN, NO_ORACLE, ORACLE, RUN_LIMIT } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');
const dir = tmpdir();

t.test('progress: drawn on a terminal, never on a pipe, silenced by --quiet', { skip: NO_ORACLE }, async (t) => {
  const big = path.join(dir, 'big.pcap');
  await replicate(path.join(PCAPS, 'dnscrypt-v1-and-resolver-pings.pcap'), 400, fs.createWriteStream(big));
  const cmd = `"${process.execPath}" "${BIN}" read "${big}" --csv -o /dev/null`;
  // script(1) gives the command a pseudo-terminal, as a person's shell would
  const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
  t.equal(tty.status, 0);
  t.match(tty.stdout, /\[[#.]{24}\]\s+\d+%\s+[\d,]+ packets\/s\s+[\d,]+ flows\s+ETA \d\d:\d\d/, 'the progress line on a terminal');
  t.match(tty.stdout, /100400 flows from/, 'then the summary');
  const quiet = spawnSync('script', ['-qec', `${cmd} -q`, '/dev/null'], { encoding: 'utf8' });
  t.notMatch(quiet.stdout, /ETA/, '--quiet: no progress');
  const piped = spawnSync(process.execPath, [BIN, 'read', big, '--csv', '-o', '/dev/null'], { ...RUN_LIMIT, encoding: 'utf8' });
  t.notMatch(piped.stderr, /ETA|\r/, 'stderr a pipe: no progress, no carriage returns');
  t.match(piped.stderr, /100400 flows from/);
});

t.test('API: an async iterable of flows; leaving early frees the meter', { skip: NO_ORACLE }, async (t) => {
  const opts = { ...parseMeterOptions({}), files: [path.join(PCAPS, 'facebook.pcap')] };
  const s = new FlowStreamer(opts);
  const flows = [];
  for await (const f of s) flows.push(f);
  t.equal(flows.length, 2);
  t.equal(flows[0].requested_server_name, 'facebook.com');
  t.notOk(s.isOpen, 'closed at the end');
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < 300; i++) {
    const early = new FlowStreamer({ ...parseMeterOptions({}), files: [path.join(PCAPS, 'skype.pcap')], batchSize: 1 });
    let seen = 0;
    // eslint-disable-next-line no-unreachable-loop -- the point: leave after the first flow
    for await (const f of early) { seen += f.id === 0 ? 1 : 0; break; }
    if (seen !== 1 || early.isOpen) t.fail(`early exit ${i}: saw the first flow ${seen} times, meter open: ${early.isOpen}`);
  }
  const grown = (process.memoryUsage().rss - rssBefore) / 1e6;
  t.ok(grown < 64, `300 early exits, memory grew ${grown.toFixed(1)} MB`);
});

t.test('API: toParquet and toCsv write what the CLI writes', { skip: NO_ORACLE }, async (t) => {
  const file = path.join(PCAPS, 'instagram.pcap');
  const pq = path.join(dir, 'api.parquet');
  const csv = path.join(dir, 'api.csv');
  const n = await toParquet(new FlowStreamer({ ...parseMeterOptions({ splt: '4' }), files: [file] }), pq);
  const m = await toCsv(new FlowStreamer({ ...parseMeterOptions({ splt: '4' }), files: [file] }), csv, { anonymize: ['src_ip'] });
  t.equal(n, m);
  const cli = spawnSync(process.execPath, [BIN, 'read', file, '--splt', '4', '--csv', '-q'], { ...RUN_LIMIT, encoding: 'utf8' }).stdout.trim().split('\n');
  const r = await query(`select count(*), sum(bidirectional_bytes) from read_parquet(${lit(pq)})`);
  t.equal(r.rows[0][0], cli.length - 1, 'same flow count as the CLI');
  const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
  t.equal(lines[0], cli[0], 'same CSV header');
  t.notMatch(lines[1].split(',')[2], /\./, 'src_ip anonymised');
});

t.test('API: columns to anonymise and the compression are checked as the CLI checks them', async (t) => {
  const sample = path.join(__dirname, '..', '..', 'samples', 'sample.pcap');
  const streamer = () => new FlowStreamer({ ...parseMeterOptions({}), files: [sample] });
  const out = path.join(dir, 'api-refused.csv');
  // a column that is not there was skipped: the addresses were written as they are
  await t.rejects(toCsv(streamer(), out, { anonymize: ['nosuch'] }), { name: 'UsageError', message: 'anonymize: no column "nosuch" with these options (see: flowseek fields)' });
  await t.rejects(toCsv(streamer(), out, { anonymize: ['src_port'] }), { message: 'anonymize: "src_port" is a number; only text columns can be anonymised' });
  await t.rejects(toParquet(streamer(), out, { compression: 'lz4' as never }), { message: 'compression must be zstd, snappy, gzip, none, got "lz4"' });
  t.notOk(fs.existsSync(out), 'nothing written');
});

t.test('API: a FlowStreamer\'s options are checked, each wrong one named', async (t) => {
  const sample = path.join(__dirname, '..', '..', 'samples', 'sample.pcap');
  const refused = (o: unknown, message: string) =>
    t.throws(() => new FlowStreamer(o as never), { name: 'UsageError', message: `FlowStreamer: ${message}` }, message);
  // each was taken before: a misspelling silently left the default, a string failed inside
  refused({ files: [sample], statz: true }, 'unknown option "statz" (did you mean "stats"?)');
  refused({ files: [sample], IdleTimeoutMs: 1 }, 'unknown option "IdleTimeoutMs" (did you mean "idleTimeoutMs"?)');
  refused({ files: [sample], output: 'x.csv' }, 'unknown option "output"');
  refused({ files: sample }, `option files must be an array of capture file names, got ${JSON.stringify(sample.length > 40 ? `${sample.slice(0, 40)}…` : sample)}`);
  refused({ files: [sample], stats: 'yes' }, 'option stats must be true or false, got "yes"');
  refused({ files: [sample], idleTimeoutMs: '30' }, 'option idleTimeoutMs must be a number, got "30"');
  refused({ files: [sample], timePrecision: 'ps' }, 'option timePrecision must be one of "ms", "us", "ns", got "ps"');
  refused({ files: [sample], accountingMode: 'bytes' }, 'option accountingMode must be one of 0, 1, 2, 3, "raw", "ip", "transport", "payload", got "bytes"');
  refused({ files: [sample], batchSize: 0 }, 'option batchSize must be a whole number from 1 to 1048576, got 0');
  refused({ files: [sample], interface: 'lo' }, 'give files (an array of capture file names) or an interface, not both');
  refused({}, 'give files (an array of capture file names) or an interface');
  refused({ files: [] }, 'option files lists no file');
  refused(null, 'the options must be an object, e.g. { files: [\'trace.pcap\'] }');
  // ranges stay the addon's to name
  t.throws(() => new FlowStreamer({ files: [sample], splt: 1000 }).open(), { message: 'option splt must be a whole number from 0 to 255' });
  // an accounting mode by name, and an option given as undefined (the default), are taken
  const byName = new FlowStreamer({ ...parseMeterOptions({}), files: [sample], accountingMode: 'payload' as never, bpf: undefined });
  let flows = 0;
  for await (const b of byName.batches()) flows += b.length;
  t.equal(flows, 6);
});

t.test('logging: JSON lines for pipelines, one plain line per error, the cause with --verbose', async (t) => {
  const sample = path.join(__dirname, '..', '..', 'samples', 'sample.pcap');
  const json = spawnSync(process.execPath, [BIN, '--log-format', 'json', 'read', sample, '--csv', '-o', '/dev/null'], { ...RUN_LIMIT, encoding: 'utf8' });
  const line = JSON.parse(json.stderr.trim().split('\n').pop() as string);
  t.equal(line.level, 30);
  t.match(line.msg, /6 flows from 30 packets/);
  t.ok(!Number.isNaN(Date.parse(line.time)), 'ISO time');
  const plain = spawnSync(process.execPath, [BIN, 'read', sample, '-o', '/nonexistent/x.csv'], { ...RUN_LIMIT, encoding: 'utf8' });
  t.equal(plain.stderr, 'flowseek: error: cannot write /nonexistent/x.csv: the folder does not exist\n');
  const verbose = spawnSync(process.execPath, [BIN, '--verbose', 'read', sample, '-o', '/nonexistent/x.csv'], { ...RUN_LIMIT, encoding: 'utf8' });
  t.match(verbose.stderr, /\n  cause: ENOENT/);
  const silent = spawnSync(process.execPath, [BIN, '--log-level', 'warn', 'read', sample, '--csv', '-o', '/dev/null'], { ...RUN_LIMIT, encoding: 'utf8' });
  t.equal(silent.stderr, '', '--log-level warn: no summary');
});
