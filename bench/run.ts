/**
 * flowseek beside its peers on one capture, each run in a fresh process, several times:
 * median packets/s, flows/s and peak RSS, written to bench/RESULTS.md.
 * Usage: npm run bench [-- repeats [packets]]   (needs ../shared, a build, ndpiReader, tshark)
 */
import { spawnSync } from 'node:child_process';
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

function main(): void {
  const repeats = Number(process.argv[2] ?? 3);
  const packets = Number(process.argv[3] ?? 5_000_000);
  const file = capture(packets);
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
  // the sections other benchmarks wrote below these rows stay
  const results = path.join(ROOT, 'bench', 'RESULTS.md');
  const before = fs.existsSync(results) ? fs.readFileSync(results, 'utf8') : '';
  const rest = before.indexOf('\n## ');
  fs.writeFileSync(results, lines.join('\n') + (rest >= 0 ? before.slice(rest) : ''));
  console.log(lines.join('\n'));
}

main();
