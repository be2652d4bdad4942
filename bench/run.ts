/**
 * flowseek beside its peers on one capture, each run in a fresh process, several times:
 * median packets/s, flows/s and peak RSS, written to bench/RESULTS.md.
 * Usage: npm run bench [-- repeats [packets [scale]]]   (needs ../shared, a build, ndpiReader, tshark;
 * root for the capture rows' network namespaces). With `scale`, only the rows of cores: --workers 2
 * on 2 cores vs --workers 1 on one per format, and capture into a veth.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNative } from '../src/native';
import { CACHE, capture, ROOT, tool } from './capture';

const BIN = path.join(ROOT, 'bin', 'flowseek');
const TRIVIAL = path.join(ROOT, 'bench', 'trivial-plugin.js');

interface Row { label: string; wall: number; cpu: number; rss: number; flows?: number; note?: string }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The goals are per core: a row runs on CPU 0 alone unless it is a row of several workers. */
const ONE_CORE = ['taskset', '-c', '0'];
const ALL_CORES = ['taskset', '-c', `0-${os.cpus().length - 1}`];

/** Runs a command `repeats` times under GNU time; the flow count is read from its stderr/stdout. */
function measure(label: string, repeats: number, cmd: string[], flowsOf?: (out: string) => number | undefined): Row {
  const walls: number[] = [], rss: number[] = [], cpus: number[] = [];
  let flows: number | undefined;
  for (let i = 0; i < repeats; i++) {
    const timing = path.join(CACHE, 'time.txt');
    const r = spawnSync('/usr/bin/time', ['-o', timing, '-f', '%e %M %U %S', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`${label}: exit ${r.status}: ${r.stderr.slice(-500)}`);
    const [wall, kb, user, sys] = fs.readFileSync(timing, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    walls.push(wall);
    cpus.push(user + sys);
    rss.push(kb / 1024);
    flows = flowsOf?.(r.stdout + r.stderr) ?? flows;
  }
  return { label, wall: median(walls), cpu: median(cpus), rss: median(rss), flows };
}

const flowseekFlows = (s: string) => Number(/(\d+) flows from/.exec(s)?.[1]);

function version(cmd: string, args: string[], pattern: RegExp): string {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return pattern.exec(r.stdout + r.stderr)?.[1] ?? '?';
  } catch {
    return 'not installed';
  }
}

/** A run's CPU by thread: the whole tree's, and its busiest thread's (the critical path on a shared
 * machine, where wall time is mostly waiting). Sampled from /proc every 20 ms. */
interface Threads { wall: number; cpu: number; busiest: number; flows?: number }

function threadCpu(pid: number, seen: Map<string, number>): void {
  const tick = 100; // USER_HZ
  let tasks: string[];
  try { tasks = fs.readdirSync(`/proc/${pid}/task`); } catch { return; }
  for (const t of tasks) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seen.set(`${pid}/${t}`, (Number(f[11]) + Number(f[12])) / tick);
      const children = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      for (const c of children ? children.split(' ') : []) threadCpu(Number(c), seen);
    } catch { /* ended */ }
  }
}

async function measureThreads(cmd: string[], env: Record<string, string> = {}): Promise<Threads> {
  const started = process.hrtime.bigint();
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '', ...env } });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const seen = new Map<string, number>();
  const timer = setInterval(() => threadCpu(child.pid as number, seen), 20);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${cmd.join(' ')}: exit ${code}: ${stderr.slice(-500)}`);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpus = [...seen.values()];
  return { wall, cpu: cpus.reduce((a, b) => a + b, 0), busiest: Math.max(...cpus), flows: flowseekFlows(stderr) };
}

/** paired: the median over the rounds of each round's own speed-up (its --workers 1 run and the
 * runs beside it, a minute apart at most: on a shared machine whose speed drifts, a fairer
 * figure than the ratio of two medians taken from different minutes) */
interface ScaleRow {
  format: string; one: Threads; two: Threads; threads: Threads; pair: Threads; paired: { two: number; threads: number; pair: number };
  /** the same, each round against the faster of its two cores alone: the host's vCPUs differ in speed and
   * trade places from one minute to the next, and against CPU 0 alone when it is the slower the speed-up
   * would be the host's, not the lanes' */
  fasterPaired: { two: number; threads: number; pair: number };
  /** --workers 1 on CPU 1 alone, in the same rounds: how the second core compares with the first */
  other: Threads;
}

/** --workers 1 on CPU 0 against --workers 2 on two CPUs, per format, --stats, to a file. */
async function scaleRows(file: string, repeats: number): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const pick = (xs: Threads[]) => [...xs].sort((a, b) => a.wall - b.wall)[Math.floor(xs.length / 2)];
  for (const format of ['csv', 'jsonl', 'parquet']) {
    const out = path.join(CACHE, `scale.${format}`);
    const run = (cores: string, workers: number, env: Record<string, string> = {}) =>
      measureThreads(['taskset', '-c', cores, process.execPath, BIN, 'read', file, '--stats', '--workers', String(workers), '-o', out], env);
    const one: Threads[] = [], two: Threads[] = [], threads: Threads[] = [], pair: Threads[] = [], other: Threads[] = [];
    // the ceiling: two meters that share nothing, one process per core, each reading the whole file
    const pairOut = (tag: string) => path.join(CACHE, `scale-${tag}.${format}`);
    const alone = (core: string, to: string) =>
      measureThreads(['taskset', '-c', core, process.execPath, BIN, 'read', file, '--stats', '-o', to]);
    for (let i = 0; i < repeats; i++) {
      one.push(await run('0', 1));
      two.push(await run('0,1', 2));
      threads.push(await run('0,1', 2, { FLOWSEEK_LANES: 'threads' }));
      const [a, b] = await Promise.all([alone('0', pairOut('a')), alone('1', pairOut('b'))]);
      // as one run of twice the packets: its wall time is the slower one's; per process, half its CPU
      pair.push({ wall: Math.max(a.wall, b.wall), cpu: a.cpu + b.cpu, busiest: Math.max(a.busiest, b.busiest), flows: (a.flows ?? 0) + (b.flows ?? 0) });
      other.push(await run('1', 1));
    }
    for (const f of [out, pairOut('a'), pairOut('b')]) fs.rmSync(f, { force: true });
    const paired = (xs: Threads[], work: number) => median(xs.map((x, i) => work * one[i].wall / x.wall));
    const faster = (xs: Threads[], work: number) => median(xs.map((x, i) => work * Math.min(one[i].wall, other[i].wall) / x.wall));
    rows.push({ format, one: pick(one), two: pick(two), threads: pick(threads), pair: pick(pair), other: pick(other),
      paired: { two: paired(two, 1), threads: paired(threads, 1), pair: paired(pair, 2) },
      fasterPaired: { two: faster(two, 1), threads: faster(threads, 1), pair: faster(pair, 2) } });
  }
  return rows;
}

interface CaptureRow { workers: number; sent: number; refused: number; seconds: number; flows: number; dropped: number; received: number }

/** `capture --workers N` on one end of a veth, the capture replayed into the other at top speed;
 * then SIGTERM. Needs root (network namespaces). */
async function captureRow(file: string, workers: number, packets: number): Promise<CaptureRow> {
  const tag = `${process.pid % 10000}${workers}`;
  const [nsA, nsB, va, vb] = [`fsbA${tag}`, `fsbB${tag}`, `fsba${tag}`, `fsbb${tag}`];
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
  ip('netns', 'add', nsA);
  ip('netns', 'add', nsB);
  try {
    ip('link', 'add', va, 'netns', nsA, 'type', 'veth', 'peer', 'name', vb, 'netns', nsB);
    for (const [ns, dev] of [[nsA, va], [nsB, vb]]) {
      ip('-n', ns, 'link', 'set', dev, 'mtu', '9000', 'up');
    }
    const capture = spawn('ip', ['netns', 'exec', nsA, process.execPath, BIN, 'capture', '-i', va, '--workers', String(workers),
      '--jsonl', '-o', '/dev/null', '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    capture.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<void>((resolve) => capture.on('exit', () => resolve()));
    const sockets = () => execFileSync('ip', ['netns', 'exec', nsA, 'cat', '/proc/net/packet'], { encoding: 'utf8' }).trim().split('\n').length - 1;
    for (let i = 0; i < 300 && sockets() < workers; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    const replay = JSON.parse(execFileSync('ip', ['netns', 'exec', nsB, tool('pcap-replay'), file, vb, String(packets)], { encoding: 'utf8' })) as
      { sent: number; refused: number; seconds: number };
    await new Promise((r) => setTimeout(r, 1000));
    capture.kill('SIGTERM');
    await exited;
    const summary = stderr.trim().split('\n').map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } })
      .reverse().find((o) => typeof o.flows === 'number' && typeof o.kernelDropped === 'number');
    if (!summary) throw new Error(`capture --workers ${workers}: no summary: ${stderr.slice(-500)}`);
    return { workers, ...replay, flows: summary.flows as number, dropped: summary.kernelDropped as number, received: summary.packets as number };
  } finally {
    for (const ns of [nsA, nsB]) spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** The section of RESULTS.md on cores (replaced in place by each run). */
function scaleSection(packets: number, rows: ScaleRow[], capture: CaptureRow[], repeats: number): string[] {
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const lines = [
    '## Cores: `read --workers 2` on 2 cores vs `--workers 1` on one; `capture` into a veth',
    '',
    `Made by \`npm run bench -- ${repeats} ${packets} scale\` on ${new Date().toISOString().slice(0, 10)} (load average at the end: ${load}). ` +
      '--workers 1 runs on CPU 0 alone, --workers 2 on CPUs 0 and 1 (taskset); --stats, DPI on, output to a file; median of ' +
      `${repeats} by wall time. CPU s: every thread of the process; busiest thread: the most CPU one thread used (on a shared ` +
      'machine the critical path, where wall time is mostly waiting for a core). Rounds paired: each round runs --workers 1, ' +
      'then the rows beside it; the median of each round\'s own ratio. Against the faster core: the same, each round\'s ' +
      '--workers 1 time being the faster of its runs on CPU 0 alone and on CPU 1 alone.',
    '',
    '| format | lanes | workers 1, 1 core: wall s | CPU s | workers 2, 2 cores: wall s | CPU s | busiest thread s | speed-up (wall) | speed-up (wall, rounds paired) | speed-up (wall, rounds paired, against the faster core) | speed-up (CPU: w1 CPU / max(w2 CPU / 2, busiest)) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.flatMap((r) => ([['on the pool (the default here)', r.two, r.paired.two, r.fasterPaired.two],
      ['on threads of their own (FLOWSEEK_LANES=threads)', r.threads, r.paired.threads, r.fasterPaired.threads],
      ['the ceiling: two --workers 1 processes at once, one per core, sharing nothing (wall: the slower; speed-up: twice the packets)', r.pair, r.paired.pair,
        r.fasterPaired.pair]] as const).map(([how, two, paired, faster]) => {
      const work = (x: Threads) => (x === r.pair ? 2 : 1);
      return `| ${r.format} | ${how} | ${r.one.wall.toFixed(2)} | ${r.one.cpu.toFixed(2)} | ${two.wall.toFixed(2)} | ${two.cpu.toFixed(2)} | ` +
      `${two.busiest.toFixed(2)} | ${(work(two) * r.one.wall / two.wall).toFixed(2)}× | ${paired.toFixed(2)}× | ${faster.toFixed(2)}× | ${(work(two) * r.one.cpu / Math.max(two.cpu / 2, two.busiest)).toFixed(2)}× |`;
    })),
    '',
    'The two cores, each alone (--workers 1, medians of the same rounds): ' +
      rows.map((r) => `${r.format} ${r.one.wall.toFixed(2)} s on CPU 0, ${r.other.wall.toFixed(2)} s on CPU 1`).join('; ') +
      '. Two lanes can at best go as fast as the two cores together, and each lane runs on whichever core it is given.',
    '',
  ];
  if (capture.length) {
    lines.push(`\`capture --workers N --jsonl -o /dev/null\` on one end of a veth (MTU 9000), the first ${capture[0].sent + capture[0].refused} ` +
      'packets of the same capture replayed into the other end as fast as libpcap injects them (bench/pcap-replay.c), then SIGTERM:', '',
      '| workers | packets sent | refused (above the MTU) | replay s | packets received | kernel drops | flows written | flows/s (over the replay) |',
      '|---|---|---|---|---|---|---|---|',
      ...capture.map((c) => `| ${c.workers} | ${c.sent.toLocaleString('en')} | ${c.refused} | ${c.seconds.toFixed(2)} | ${c.received.toLocaleString('en')} | ` +
        `${c.dropped.toLocaleString('en')} | ${c.flows.toLocaleString('en')} | ${Math.round(c.flows / c.seconds).toLocaleString('en')} |`), '');
  }
  return lines;
}

/** RESULTS.md with its first part (up to the first section) or one section replaced. */
function writeResults(replace: (existing: string[]) => string[]): void {
  const file = path.join(ROOT, 'bench', 'RESULTS.md');
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
  fs.writeFileSync(file, replace(existing).join('\n'));
}

function withSection(existing: string[], heading: string, section: string[]): string[] {
  const start = existing.findIndex((l) => l.startsWith(heading));
  if (start < 0) return [...existing, ...(existing.length && existing[existing.length - 1] !== '' ? [''] : []), ...section];
  let end = existing.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = existing.length;
  return [...existing.slice(0, start), ...section, ...existing.slice(end)];
}

async function scale(repeats: number, packets: number, file: string): Promise<void> {
  const rows = await scaleRows(file, repeats);
  const capture: CaptureRow[] = [];
  if (process.getuid?.() === 0) {
    const n = Math.min(packets, 1_000_000);
    for (const w of [1, 2]) capture.push(await captureRow(file, w, n));
  } else {
    console.error('bench: the capture rows need root (network namespaces): left out');
  }
  const section = scaleSection(packets, rows, capture, repeats);
  writeResults((existing) => withSection(existing, '## Cores:', section));
  console.log(section.join('\n'));
}

async function main(): Promise<void> {
  const repeats = Number(process.argv[2] ?? 3);
  const packets = Number(process.argv[3] ?? 5_000_000);
  const file = capture(packets);
  if (process.argv[4] === 'scale') return scale(repeats, packets, file);
  const out = (ext: string) => path.join(CACHE, `out.${ext}`);
  const run = (cores: string[], args: string[]) => [...cores, process.execPath, BIN, 'read', file, ...args];
  const fs1 = (label: string, args: string[]) => measure(label, repeats, run(ONE_CORE, args), flowseekFlows);
  const rows: Row[] = [
    measure('bare libpcap read loop (the ceiling)', repeats, [...ONE_CORE, tool('pcap-loop'), file]),
    measure('ndpiReader -i (Debian nDPI 4.2, DPI on)', repeats, [...ONE_CORE, 'ndpiReader', '-i', file],
      (s) => Number(/Unique flows:\s+(\d+)/.exec(s)?.[1]) || undefined),
    measure('tshark -q -z conv,tcp -z conv,udp', 1, [...ONE_CORE, 'tshark', '-q', '-n', '-z', 'conv,tcp', '-z', 'conv,udp', '-r', file]),
    fs1('flowseek --dissections 0', ['--dissections', '0', '--csv', '-o', '/dev/null']),
    fs1('flowseek (defaults: DPI 20)', ['--csv', '-o', '/dev/null']),
    fs1('flowseek --stats (DPI 20)', ['--stats', '--csv', '-o', '/dev/null']),
    fs1('flowseek --stats --splt 20', ['--stats', '--splt', '20', '--csv', '-o', '/dev/null']),
    fs1('flowseek --stats, CSV file', ['--stats', '-o', out('csv')]),
    fs1('flowseek --stats, JSONL file', ['--stats', '-o', out('jsonl')]),
    fs1('flowseek --stats, Parquet file', ['--stats', '-o', out('parquet')]),
    measure(`flowseek --stats, all ${os.cpus().length} cores`, repeats, run(ALL_CORES, ['--stats', '--csv', '-o', '/dev/null']), flowseekFlows),
    measure(`flowseek --stats --workers 2, all ${os.cpus().length} cores`, repeats, run(ALL_CORES, ['--stats', '--workers', '2', '--csv', '-o', '/dev/null']), flowseekFlows),
    fs1('flowseek --dissections 0 --plugin (trivial)', ['--dissections', '0', '--plugin', TRIVIAL, '--csv', '-o', '/dev/null']),
  ];
  for (const ext of ['csv', 'jsonl', 'parquet']) fs.rmSync(out(ext), { force: true });
  const native = loadNative();
  const cpu = os.cpus()[0]?.model ?? '?';
  const lines = [
    '# Benchmark results',
    '',
    `Made by \`npm run bench -- ${repeats} ${packets}\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores (${cpu}), ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}; Node ${process.version}, ${native.libpcapVersion}, ` +
      `nDPI ${version('ndpiReader', ['-h'], /Welcome to nDPI (\S+)/)}, tshark ${version('tshark', ['-v'], /TShark \(Wireshark\) ([^\s]+)/)}.`,
    '',
    `Input: ${packets.toLocaleString('en')} packets (${(fs.statSync(file).size / 1e9).toFixed(2)} GB), the oracle's Ethernet captures repeated with ` +
      'rewritten addresses and shifted times (bench/make-capture.c). Each row: a fresh process, whole-process wall time ' +
      `(start-up included), median of ${repeats} runs (tshark: 1); CPU s: user + system of the whole tree; peak RSS of ` +
      "that process tree's largest process. Every row runs on CPU 0 alone (taskset), the goals being per core, except the " +
      'rows marked all cores.',
    '',
    '| run | wall s | CPU s | packets/s | flows | flows/s | peak RSS MB |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.label} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${Math.round(packets / r.wall).toLocaleString('en')} | ` +
      `${r.flows ? r.flows.toLocaleString('en') : '—'} | ${r.flows ? Math.round(r.flows / r.wall).toLocaleString('en') : '—'} | ${r.rss.toFixed(0)} |`),
    '',
    `Memory per open flow in the meter: a ${native.flowRecordBytes}-byte record (${native.flowRecordBytes + native.flowStatsBytes} with --stats) plus 16 bytes of hash slot; while nDPI ` +
      `detects, ${native.ndpiFlowStateBytes} bytes of its flow state plus its own allocations, freed when detection ends.`,
    '',
  ];
  const by = (l: string) => rows.find((r) => r.label === l) as Row;
  const pps = (l: string) => packets / by(l).wall;
  lines.push('Goals (same file, same run, one core unless marked):',
    `- DPI on with --stats vs ndpiReader: ${(pps('flowseek --stats (DPI 20)') / pps('ndpiReader -i (Debian nDPI 4.2, DPI on)')).toFixed(2)}× (goal ≥ 1.5×)`,
    `- --dissections 0 vs the bare libpcap loop: ${(100 * pps('flowseek --dissections 0') / pps('bare libpcap read loop (the ceiling)')).toFixed(0)} % (goal ≥ 60 %)`,
    `- --workers 2 on all cores vs --workers 1 on one (--stats): ${(pps(`flowseek --stats --workers 2, all ${os.cpus().length} cores`) / pps('flowseek --stats (DPI 20)')).toFixed(2)}× ` +
      `(goal ≥ 1.7×); vs --workers 1 on all cores: ${(pps(`flowseek --stats --workers 2, all ${os.cpus().length} cores`) / pps(`flowseek --stats, all ${os.cpus().length} cores`)).toFixed(2)}×`,
    `- peak RSS with defaults: ${by('flowseek (defaults: DPI 20)').rss.toFixed(0)} MB (goal ≤ 134 MB, NFStream 6.5.4's on the 4 M-packet capture; ` +
      'where it goes: node dist/bench/memory.js)',
    `- a trivial plugin (bench/trivial-plugin.js, JavaScript on every packet) vs none, --dissections 0: ` +
      `${(by('flowseek --dissections 0 --plugin (trivial)').wall / by('flowseek --dissections 0').wall).toFixed(2)}× the time`, '');
  // the first part is this run's; the sections after it (other benchmarks) stay
  writeResults((existing) => {
    const rest = existing.findIndex((l) => l.startsWith('## '));
    return [...lines, ...(rest < 0 ? [] : existing.slice(rest))];
  });
  console.log(lines.join('\n'));
  await scale(repeats, packets, file);
}

main().catch((e: Error) => { console.error(e.message); process.exit(1); });
