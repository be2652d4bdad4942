/**
 * Mutation fuzzing of the whole CLI: real captures (the oracle's pcap and pcapng files) mutated —
 * bit flips, byte runs, truncation, record and block length fields, file header fields, two files
 * spliced — and read by bin/flowseek with the sanitizer addon (build-asan/, npm run build:asan)
 * and random flags. A run fails on a sanitizer report, a death by signal, a hang, an exit other than
 * 0/1, an exit 1 without a "flowseek: error"/"warning" line, a stack trace, output that does not
 * parse, or a file left in the output folder besides the output. Failing inputs go to fuzz/crashes/
 * with a .txt beside them (the command and why). Not part of npm test:
 *   npm run fuzz:cli -- --runs 5000 --seconds 3600 --seed 7
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'flowseek');
const ORACLE = path.resolve(ROOT, '..', 'shared', 'oracle');
const CRASHES = path.join(ROOT, 'fuzz', 'crashes');
/** inputs above this size are left out: a run should take about a second */
const MAX_INPUT = 256 * 1024;
const RUN_TIMEOUT_MS = 60000;

interface Args { runs: number; seconds: number; seed: number; addon: string; verbose: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 1000, seconds: 0, seed: Date.now() % 2 ** 31, addon: path.join(ROOT, 'build-asan', 'flowseek.node'), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--runs': a.runs = Number(v); i++; break;
      case '--seconds': a.seconds = Number(v); i++; break;
      case '--seed': a.seed = Number(v); i++; break;
      case '--addon': a.addon = path.resolve(v); i++; break;
      case '--verbose': a.verbose = true; break;
      default:
        console.error(`fuzz-cli: unknown argument ${argv[i]} (--runs N --seconds S --seed N --addon FILE --verbose)`);
        process.exit(2);
    }
  }
  for (const k of ['runs', 'seconds', 'seed'] as const) {
    if (!Number.isInteger(a[k]) || a[k] < 0) { console.error(`fuzz-cli: --${k} takes a whole number`); process.exit(2); }
  }
  return a;
}

/** mulberry32: small, seedable, good enough to choose mutations */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

/** Offsets of the record headers of a classic pcap (16 bytes each), or of the blocks of a pcapng. */
function records(b: Buffer): { offsets: number[]; kind: 'pcap' | 'pcapng' | 'other'; little: boolean } {
  const out: number[] = [];
  if (b.length < 24) return { offsets: out, kind: 'other', little: true };
  const magic = b.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) {
    const little = b.length >= 12 && b.readUInt32LE(8) === 0x1a2b3c4d;
    for (let at = 0; at + 12 <= b.length && out.length < 100000;) {
      out.push(at);
      const len = little ? b.readUInt32LE(at + 4) : b.readUInt32BE(at + 4);
      if (len < 12) break;
      at += len;
    }
    return { offsets: out, kind: 'pcapng', little };
  }
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) return { offsets: out, kind: 'other', little: true };
  for (let at = 24; at + 16 <= b.length && out.length < 100000;) {
    out.push(at);
    at += 16 + (little ? b.readUInt32LE(at + 8) : b.readUInt32BE(at + 8));
  }
  return { offsets: out, kind: 'pcap', little };
}

const INTERESTING32 = [0, 1, 2, 13, 14, 15, 16, 20, 40, 64, 127, 128, 255, 256, 1500, 65535, 65536, 262144, 262145,
  0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const LINKTYPES = [0, 1, 9, 10, 12, 50, 101, 104, 105, 113, 127, 147, 228, 229, 276, 65535];

function put32(b: Buffer, at: number, v: number, little: boolean): void {
  if (at < 0 || at + 4 > b.length) return;
  if (little) b.writeUInt32LE(v >>> 0, at); else b.writeUInt32BE(v >>> 0, at);
}

/** One mutation; its name says which, for the report. */
function mutate(r: Rand, input: Buffer, other: Buffer): { data: Buffer; how: string } {
  let b: Buffer = Buffer.from(input);
  const which = int(r, 7);
  switch (which) {
    case 0: { // bit flips
      const n = 1 + int(r, 8);
      for (let i = 0; i < n; i++) { const at = int(r, b.length); b[at] ^= 1 << int(r, 8); }
      return { data: b, how: `${n} bit flips` };
    }
    case 1: { // a run of one byte or of noise
      const at = int(r, b.length), len = 1 + int(r, Math.min(512, b.length - at));
      const v = pick(r, [0, 0xff, 0x7f, 0x80, -1]);
      for (let i = at; i < at + len; i++) b[i] = v < 0 ? int(r, 256) : v;
      return { data: b, how: `byte run of ${len} at ${at}` };
    }
    case 2: { // truncation: inside a record, at its header, or into the file header
      const { offsets } = records(b);
      const at = offsets.length && r() < 0.6 ? pick(r, offsets) + int(r, 20) : int(r, b.length);
      return { data: b.subarray(0, Math.min(at, b.length)), how: `truncated at ${at}` };
    }
    case 3: { // a record's or block's length field
      const { offsets, kind, little } = records(b);
      if (!offsets.length) return { data: b, how: 'no records: unchanged' };
      const at = pick(r, offsets), v = r() < 0.7 ? pick(r, INTERESTING32) : int(r, 2 ** 32);
      const near = r() < 0.3; // one more or less than what is there
      if (kind === 'pcap') {
        const field = at + pick(r, [8, 12]);
        const old = little ? b.readUInt32LE(field) : b.readUInt32BE(field);
        put32(b, field, near ? old + pick(r, [-1, 1]) : v, little);
        return { data: b, how: `pcap record at ${at}: ${field - at === 8 ? 'caplen' : 'len'} set` };
      }
      // pcapng: the block length (front or back copy) or an enhanced packet's captured length
      const field = at + pick(r, [4, 20, 24]);
      const old = field + 4 <= b.length ? (little ? b.readUInt32LE(field) : b.readUInt32BE(field)) : 0;
      put32(b, field, near ? old + pick(r, [-1, 1, 4, -4]) : v, little);
      return { data: b, how: `pcapng block at ${at}: field +${field - at} set` };
    }
    case 4: { // the file header: magic, version, snaplen, link type (pcapng: byte order, section length, IDB)
      const { kind, little, offsets } = records(b);
      if (kind === 'pcapng') {
        const idb = offsets.find((o) => b.readUInt32LE(o) === 1 || b.readUInt32BE(o) === 1) ?? 0;
        const f = int(r, 4);
        if (f === 0) put32(b, 8, pick(r, [0x1a2b3c4d, 0x4d3c2b1a, 0]), true);
        else if (f === 1) put32(b, 16, pick(r, INTERESTING32), little);
        else if (f === 2 && idb + 12 <= b.length) { if (little) b.writeUInt16LE(pick(r, LINKTYPES), idb + 8); else b.writeUInt16BE(pick(r, LINKTYPES), idb + 8); }
        else put32(b, idb + 12, pick(r, INTERESTING32), little);
        return { data: b, how: `pcapng header field ${f}` };
      }
      const f = int(r, 4);
      if (f === 0) put32(b, 0, pick(r, [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a, 0]), true);
      else if (f === 1) { put32(b, 4, pick(r, [0x00040002, 0x00020004, 0x00030002, 0]), true); }
      else if (f === 2) put32(b, 16, pick(r, INTERESTING32), little);
      else put32(b, 20, pick(r, LINKTYPES), little);
      return { data: b, how: `pcap header field ${f}` };
    }
    case 5: { // splice: this file's head, another's tail
      const a = records(b), o = records(other);
      const cutA = a.offsets.length ? pick(r, a.offsets) : int(r, b.length);
      const cutB = o.offsets.length && r() < 0.7 ? pick(r, o.offsets) : int(r, other.length);
      b = Buffer.concat([b.subarray(0, cutA), other.subarray(cutB)]);
      return { data: b, how: `spliced at ${cutA} with another file from ${cutB}` };
    }
    default: { // several of the above
      let how = '';
      for (let i = 0; i < 2 + int(r, 3); i++) {
        const m = mutate(r, b, other);
        b = m.data.length ? m.data : b;
        how += (how ? ' + ' : '') + m.how;
      }
      return { data: b, how };
    }
  }
}

interface Plan { args: string[]; format: 'csv' | 'jsonl' | 'parquet'; output?: string }

function flags(r: Rand, input: string, dir: string): Plan {
  const args = ['read', input];
  if (r() < 0.4) args.push('--stats');
  if (r() < 0.3) args.push('--splt', String(1 + int(r, 30)));
  if (r() < 0.2) args.push('--payload-bytes', String(1 + int(r, 128)));
  if (r() < 0.2) args.push('--header-bytes', String(1 + int(r, 4)));
  if (r() < 0.3) args.push('--workers', '2');
  if (r() < 0.1) args.push('--bpf', pick(r, ['tcp or udp', 'ip', 'vlan and udp']));
  if (r() < 0.1) args.push('--snaplen', String(pick(r, [1, 14, 60, 200])));
  if (r() < 0.1) args.push('--dissections', '0');
  const format = pick(r, ['csv', 'jsonl', 'parquet'] as const);
  const output = format === 'parquet' || r() < 0.5 ? path.join(dir, `flows.${format}`) : undefined;
  if (output) args.push('-o', output); else args.push(`--${format}`);
  return { args, format, output };
}

/** RFC 4180 rows: quoted fields may hold commas, quotes (doubled) and newlines. */
function csvRows(text: string): string[][] | string {
  const rows: string[][] = [];
  let row: string[] = [], field = '', quoted = false, i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { if (field !== '') return `a quote inside an unquoted field, row ${rows.length + 1}`; quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
    field += c; i++;
  }
  if (quoted) return 'a quoted field never closed';
  if (field !== '' || row.length) return 'the last row has no line end';
  return rows;
}

async function parquetRows(file: string): Promise<number | string> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const reader = await c.runAndReadAll(`select count(*) from read_parquet('${file.replace(/'/g, "''")}')`);
    return Number(reader.getRows()[0][0]);
  } catch (e) {
    return `Parquet does not read: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    c.closeSync();
  }
}

/** What is wrong with a run, or undefined. */
async function judge(plan: Plan, r: ReturnType<typeof spawnSync>, dir: string): Promise<string | undefined> {
  const stderr = String(r.stderr ?? ''), stdout = String(r.stdout ?? '');
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return `no end within ${RUN_TIMEOUT_MS / 1000} s`;
  if (/AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/.test(stderr)) return 'sanitizer report';
  if (r.signal) return `killed by ${r.signal}`;
  if (r.status !== 0 && r.status !== 1) return `exit ${r.status}`;
  if (/^\s+at .+:\d+:\d+\)?$/m.test(stderr)) return 'a stack trace on stderr';
  if (r.status === 1 && !/^flowseek: (error|warning): /m.test(stderr)) return 'exit 1 without a "flowseek: error/warning" line';
  // an input refused before its first flow writes nothing, not even a header
  if (r.status === 1 && !plan.output && stdout === '') return undefined;
  const left = fs.readdirSync(dir).filter((f) => !plan.output || f !== path.basename(plan.output));
  if (left.length) return `left in the output folder: ${left.join(' ')}`;
  if (plan.output && !fs.existsSync(plan.output)) return r.status === 0 ? 'exit 0 but no output file' : undefined;
  if (plan.format === 'parquet') {
    const n = await parquetRows(plan.output as string);
    return typeof n === 'string' ? n : undefined;
  }
  const body = plan.output ? fs.readFileSync(plan.output, 'utf8') : stdout;
  if (plan.format === 'jsonl') {
    const lines = body.split('\n');
    if (lines.pop() !== '') return 'JSON Lines output without a final line end';
    for (const [i, l] of lines.entries()) {
      try { JSON.parse(l); } catch (e) { return `JSON Lines line ${i + 1} does not parse: ${(e as Error).message}`; }
    }
    return undefined;
  }
  const rows = csvRows(body);
  if (typeof rows === 'string') return `CSV: ${rows}`;
  if (!rows.length) return 'CSV without a header';
  const bad = rows.findIndex((row) => row.length !== rows[0].length);
  return bad >= 0 ? `CSV row ${bad + 1} has ${rows[bad].length} fields, the header ${rows[0].length}` : undefined;
}

function inputs(): string[] {
  const all: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap)$/.test(e.name) && fs.statSync(p).size <= MAX_INPUT && records(fs.readFileSync(p)).kind !== 'other') all.push(p);
    }
  };
  walk(path.join(ORACLE, 'nfstream', 'pcaps'));
  walk(path.join(ORACLE, 'nfstream', 'results')); // the pcapng captures live there (beside results named *.pcap)
  return [...new Set(all)].sort();
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(a.addon)) { console.error(`fuzz-cli: ${a.addon} missing: npm run build:asan`); return 1; }
  const files = inputs();
  if (!files.length) { console.error(`fuzz-cli: no captures under ${ORACLE}`); return 1; }
  const asan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  const env = {
    ...process.env, NODE_OPTIONS: '', FLOWSEEK_ADDON: a.addon, LD_PRELOAD: asan,
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-fuzz-cli-'));
  const r = rng(a.seed);
  const started = Date.now();
  const exits = new Map<string, number>();
  let runs = 0, findings = 0, unconfirmed = 0;
  console.error(`fuzz-cli: seed ${a.seed}, ${files.length} captures, up to ${a.runs} runs${a.seconds ? ` or ${a.seconds} s` : ''}`);
  try {
    while (runs < a.runs && (!a.seconds || Date.now() - started < a.seconds * 1000)) {
      const src = pick(r, files), other = pick(r, files);
      const m = mutate(r, fs.readFileSync(src), fs.readFileSync(other));
      const ext = m.data.length >= 4 && m.data.readUInt32LE(0) === 0x0a0d0d0a ? 'pcapng' : 'pcap';
      const input = path.join(work, `input.${ext}`);
      fs.writeFileSync(input, m.data);
      const dir = path.join(work, 'out');
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
      const plan = flags(r, input, dir);
      const run = () => spawnSync(process.execPath, [BIN, ...plan.args], { env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS, maxBuffer: 1 << 28 });
      const res = run();
      runs++;
      const key = res.signal ?? String(res.status);
      exits.set(key, (exits.get(key) ?? 0) + 1);
      let why = await judge(plan, res, dir);
      if (why) {
        // a finding is kept only if it happens again: a machine under load or a dependency being
        // reinstalled meanwhile is not flowseek's fault
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir);
        if (!(await judge(plan, run(), dir))) {
          unconfirmed++;
          console.error(`fuzz-cli: run ${runs}: ${why}, not again on a second run: not kept (${String(res.stderr).split('\n')[0].slice(0, 200)})`);
          why = undefined;
        }
      }
      if (a.verbose) console.error(`${runs} ${path.basename(src)} ${m.how} ${plan.args.slice(2).join(' ')}: exit ${key}${why ? ` FINDING ${why}` : ''}`);
      if (why) {
        findings++;
        fs.mkdirSync(CRASHES, { recursive: true });
        const name = `cli-${a.seed}-${runs}.${ext}`;
        fs.writeFileSync(path.join(CRASHES, name), m.data);
        const cmd = `FLOWSEEK_ADDON=${a.addon} LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 ` +
          `bin/flowseek ${plan.args.map((x) => (x === input ? `fuzz/crashes/${name}` : x.startsWith(dir) ? `OUT/${path.basename(x)}` : x)).join(' ')}`;
        fs.writeFileSync(path.join(CRASHES, `${name}.txt`),
          `${why}\nfrom ${path.basename(src)} (${m.how}${m.how.includes('splice') ? `, with ${path.basename(other)}` : ''})\n${cmd}\nexit ${key}\n--- stderr\n${String(res.stderr).slice(-8000)}\n`);
        console.error(`fuzz-cli: FINDING at run ${runs}: ${why}: fuzz/crashes/${name}`);
      }
      if (runs % 100 === 0) console.error(`fuzz-cli: ${runs} runs, ${findings} findings, ${Math.round((Date.now() - started) / 1000)} s`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const secs = (Date.now() - started) / 1000;
  console.log(`fuzz-cli: seed ${a.seed}: ${runs} runs in ${secs.toFixed(0)} s (${(runs / secs).toFixed(2)}/s), ${findings} findings` +
    `${unconfirmed ? ` (${unconfirmed} more not reproduced)` : ''}; exits ${[...exits].map(([k, v]) => `${k}:${v}`).join(' ')}`);
  return findings ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(`fuzz-cli: ${(e as Error).stack}`); process.exitCode = 1; });
