/**
 * flowseek beside its peers on one capture, each run in a fresh process, several times:
 * median packets/s, flows/s and peak RSS, written to bench/RESULTS.md.
 * Usage: npm run bench [-- repeats [packets]]   (needs ../shared, a build, ndpiReader, tshark)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNative } from '../src/native';

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, 'bench', 'cache');
const PCAPS = path.resolve(ROOT, '..', 'shared', 'oracle', 'nfstream', 'pcaps');
const BIN = path.join(ROOT, 'bin', 'flowseek');
const TRIVIAL = path.join(ROOT, 'bench', 'trivial-plugin.js');

interface Row { label: string; wall: number; rss: number; flows?: number; note?: string }

function tool(name: string): string {
  const out = path.join(CACHE, 'bin', name);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const src = path.join(ROOT, 'bench', `${name}.c`);
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    execFileSync('cc', ['-O2', '-Wall', '-o', out, src, '-lpcap']);
  }
  return out;
}

function capture(packets: number): string {
  const file = path.join(CACHE, `bench-${packets}.pcap`);
  if (!fs.existsSync(file)) {
    const inputs = fs.readdirSync(PCAPS).sort().map((f) => path.join(PCAPS, f));
    execFileSync(tool('make-capture'), [file, String(packets), ...inputs], { stdio: 'inherit' });
  }
  return file;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs a command `repeats` times under GNU time; the flow count is read from its stderr/stdout. */
function measure(label: string, repeats: number, cmd: string[], flowsOf?: (out: string) => number | undefined): Row {
  const walls: number[] = [], rss: number[] = [];
  let flows: number | undefined;
  for (let i = 0; i < repeats; i++) {
    const timing = path.join(CACHE, 'time.txt');
    const r = spawnSync('/usr/bin/time', ['-o', timing, '-f', '%e %M', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`${label}: exit ${r.status}: ${r.stderr.slice(-500)}`);
    const [wall, kb] = fs.readFileSync(timing, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    walls.push(wall);
    rss.push(kb / 1024);
    flows = flowsOf?.(r.stdout + r.stderr) ?? flows;
  }
  return { label, wall: median(walls), rss: median(rss), flows };
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
  const fs1 = (label: string, args: string[]) => measure(label, repeats, [process.execPath, BIN, 'read', file, ...args], flowseekFlows);
  const rows: Row[] = [
    measure('bare libpcap read loop (the ceiling)', repeats, [tool('pcap-loop'), file]),
    measure('ndpiReader -i (Debian nDPI 4.2, DPI on)', repeats, ['ndpiReader', '-i', file],
      (s) => Number(/Unique flows:\s+(\d+)/.exec(s)?.[1]) || undefined),
    measure('tshark -q -z conv,tcp -z conv,udp', 1, ['tshark', '-q', '-n', '-z', 'conv,tcp', '-z', 'conv,udp', '-r', file]),
    fs1('flowseek --dissections 0', ['--dissections', '0', '--csv', '-o', '/dev/null']),
    fs1('flowseek (defaults: DPI 20)', ['--csv', '-o', '/dev/null']),
    fs1('flowseek --stats (DPI 20)', ['--stats', '--csv', '-o', '/dev/null']),
    fs1('flowseek --stats --splt 20', ['--stats', '--splt', '20', '--csv', '-o', '/dev/null']),
    fs1('flowseek --stats, CSV file', ['--stats', '-o', out('csv')]),
    fs1('flowseek --stats, JSONL file', ['--stats', '-o', out('jsonl')]),
    fs1('flowseek --stats, Parquet file', ['--stats', '-o', out('parquet')]),
    fs1('flowseek --stats --workers 2', ['--stats', '--workers', '2', '--csv', '-o', '/dev/null']),
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
      `(start-up included), median of ${repeats} runs (tshark: 1); peak RSS of that process tree's largest process.`,
    '',
    '| run | wall s | packets/s | flows | flows/s | peak RSS MB |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.label} | ${r.wall.toFixed(2)} | ${Math.round(packets / r.wall).toLocaleString('en')} | ` +
      `${r.flows ? r.flows.toLocaleString('en') : '—'} | ${r.flows ? Math.round(r.flows / r.wall).toLocaleString('en') : '—'} | ${r.rss.toFixed(0)} |`),
    '',
    `Memory per open flow in the meter: a ${native.flowRecordBytes}-byte record plus 16 bytes of hash slot; while nDPI ` +
      `detects, ${native.ndpiFlowStateBytes} bytes of its flow state plus its own allocations, freed when detection ends.`,
    '',
  ];
  const by = (l: string) => rows.find((r) => r.label === l) as Row;
  const pps = (l: string) => packets / by(l).wall;
  lines.push('Goals (same file, same run):',
    `- DPI on with --stats vs ndpiReader: ${(pps('flowseek --stats (DPI 20)') / pps('ndpiReader -i (Debian nDPI 4.2, DPI on)')).toFixed(2)}× (goal ≥ 1.5×)`,
    `- --dissections 0 vs the bare libpcap loop: ${(100 * pps('flowseek --dissections 0') / pps('bare libpcap read loop (the ceiling)')).toFixed(0)} % (goal ≥ 60 %)`,
    `- --workers 2 vs --workers 1 (--stats): ${(pps('flowseek --stats --workers 2') / pps('flowseek --stats (DPI 20)')).toFixed(2)}× (goal ≥ 1.7×)`,
    `- a trivial plugin (bench/trivial-plugin.js, JavaScript on every packet) vs none, --dissections 0: ` +
      `${(by('flowseek --dissections 0 --plugin (trivial)').wall / by('flowseek --dissections 0').wall).toFixed(2)}× the time`, '');
  fs.writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

main();
