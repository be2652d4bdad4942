/**
 * Where a read's memory goes at its peak: `flowseek read CAPTURE -o out.csv` (defaults, or the
 * options given) in a fresh process, its /proc/PID/smaps read every 10 ms; the reading with the
 * largest resident set is split by mapping: the node executable, shared libraries, the capture's
 * mapped pages, malloc's heap (the brk heap and anonymous maps of 1 MB or more: flow records, nDPI's
 * module and per-flow state, batch buffers) and V8's heap pages with the thread stacks (anonymous
 * maps under 1 MB). A heuristic split: V8's large objects land in the malloc column.
 * Usage: npm run build && node dist/bench/memory.js [packets [runs]] [-- flowseek options]
 * With BASE=<another build's folder>, that build is measured too (before/after).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE, capture, ROOT } from './capture';

const PARTS = ['node executable', 'shared libraries', 'capture pages', 'malloc heap', 'V8 heap, stacks'] as const;
type Part = (typeof PARTS)[number];

interface Peak { rssKb: number; parts: Record<Part, number>; reported: number; cpu: number }

/** kB resident per part, from one reading of smaps. */
function reading(pid: number, file: string, exe: string): { rss: number; parts: Record<Part, number> } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const parts = Object.fromEntries(PARTS.map((p) => [p, 0])) as Record<Part, number>;
  let rss = 0, part: Part = 'V8 heap, stacks';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[3], kb = (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1024;
      part = name === exe ? 'node executable' : name === file ? 'capture pages'
        : name.startsWith('/') ? 'shared libraries' : name === '[heap]' || (name === '' && kb >= 1024) ? 'malloc heap' : 'V8 heap, stacks';
      continue;
    }
    const rssLine = /^Rss:\s+(\d+) kB/.exec(line);
    if (rssLine) {
      parts[part] += Number(rssLine[1]);
      rss += Number(rssLine[1]);
    }
  }
  return { rss, parts };
}

/** One run: the peak reading, the peak the CLI reports, and CPU seconds. */
function run(bin: string, file: string, args: string[]): Promise<Peak> {
  const exe = fs.realpathSync(process.execPath);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'cpu %U %S', process.execPath, bin, 'read', file, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '', best: Peak = { rssKb: 0, parts: Object.fromEntries(PARTS.map((p) => [p, 0])) as Record<Part, number>, reported: 0, cpu: 0 };
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // /usr/bin/time's child: the node process
    let pid = 0;
    const timer = setInterval(() => {
      if (!pid) {
        try { pid = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || 0; } catch { /* not yet */ }
        if (!pid) return;
      }
      const r = reading(pid, file, exe);
      if (r && r.rss > best.rssKb) best = { ...best, rssKb: r.rss, parts: r.parts };
    }, 10);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) { reject(new Error(`exit ${code}: ${stderr.slice(-400)}`)); return; }
      const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(stderr);
      resolve({ ...best, reported: Number(/peak memory (\d+) MB/.exec(stderr)?.[1]), cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN });
    });
  });
}

async function main(): Promise<void> {
  const dash = process.argv.indexOf('--');
  const args = dash > 0 ? process.argv.slice(2, dash) : process.argv.slice(2);
  const options = dash > 0 ? process.argv.slice(dash + 1) : [];
  const packets = Number(args[0] ?? 4_000_000), runs = Number(args[1] ?? 3);
  const file = capture(packets);
  const out = path.join(CACHE, 'memory-out.csv');
  const builds: [string, string][] = [['flowseek', path.join(ROOT, 'bin', 'flowseek')]];
  if (process.env.BASE) builds.unshift(['flowseek before', path.join(process.env.BASE, 'bin', 'flowseek')]);
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  console.log(`${path.basename(file)}: flowseek read ${[...options, '-o', 'out.csv'].join(' ')}; the run of median peak of ${runs}`);
  console.log(`| build | peak RSS MB (reported) | ${PARTS.join(' | ')} | CPU s |`);
  console.log(`|---|---|${PARTS.map(() => '---').join('|')}|---|`);
  for (const [label, bin] of builds) {
    const peaks: Peak[] = [];
    for (let i = 0; i < runs; i++) peaks.push(await run(bin, file, [...options, '-o', out]));
    const m = [...peaks].sort((a, b) => a.reported - b.reported)[Math.floor(runs / 2)];
    console.log(`| ${label} | ${mb(m.rssKb)} (${m.reported}) | ${PARTS.map((p) => mb(m.parts[p])).join(' | ')} | ${m.cpu.toFixed(2)} |`);
  }
  fs.rmSync(out, { force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
