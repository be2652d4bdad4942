/**
 * Cost of --system-visibility, side by side in one run, in a network namespace of its own: N TCP
 * connections on loopback (2N sockets) held open, and a churn of R short connections a second
 * (each sends a byte and closes), the same load for each of:
 *   1. the poller reading the whole socket tables at every 100 ms poll (the way before lookups),
 *      in this process;
 *   2. `flowseek capture -i lo` without system visibility: the baseline;
 *   3. the same with --system-visibility-mode poll (sock_diag lookups of each new flow);
 *   4. the same with --system-visibility-mode bpf (kernel events), the kernel counting its BPF
 *      programs' run time meanwhile.
 * For 2-4: CPU of the capture's processes (parent and workers, /proc/PID/stat) over the churn,
 * and the capture's own summary line; for 4 also the programs' time in the kernel, which is
 * charged to the processes that make the system calls, not to the capture.
 * Usage (root): node dist/bench/visibility.js [connections] [new connections/s] [seconds]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { loadNative } from '../src/native';
import { SocketPoller } from '../src/system/visibility';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'flowseek');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICK = 100; // clock ticks a second (USER_HZ)

/** R short connections a second, started in groups every 10 ms, until stopped; returns a stop
 * function that resolves to how many were made. */
function churn(port: number, perSecond: number): () => Promise<number> {
  let made = 0, open = 0, carry = 0;
  const timer = setInterval(() => {
    carry += perSecond / 100;
    for (; carry >= 1; carry--) {
      if (open > 200) continue; // the machine is behind: do not pile up
      open++;
      const c = net.connect(port, '127.0.0.1', () => { c.end('x'); });
      c.on('close', () => { open--; made++; });
      c.on('error', () => undefined);
    }
  }, 10);
  return async () => {
    clearInterval(timer);
    while (open > 0) await sleep(10);
    return made;
  };
}

/** CPU seconds so far of a process and its children (the capture's workers). */
function treeCpu(pid: number): number {
  const stat = (p: string) => { try { return fs.readFileSync(`/proc/${p}/stat`, 'utf8'); } catch { return ''; } };
  const fields = (s: string) => s.slice(s.lastIndexOf(')') + 2).split(' ');
  let ticks = 0;
  for (const p of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const f = fields(stat(p));
    if (f.length < 13) continue;
    if (Number(p) === pid || Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICK;
}

async function captureRun(port: number, perSecond: number, seconds: number, mode: string | null): Promise<string> {
  const args = [BIN, 'capture', '-i', 'lo', '--workers', '1', '--dissections', '0', '--csv', '-o', '/dev/null'];
  if (mode) args.push('--system-visibility', '--system-visibility-mode', mode);
  const capture = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  capture.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => capture.on('exit', r));
  for (let i = 0; i < 100 && !/capturing on/.test(stderr); i++) await sleep(100);
  await sleep(1000);
  const stop = churn(port, perSecond);
  const cpu0 = treeCpu(capture.pid!), t0 = Date.now();
  await sleep(seconds * 1000);
  const cpu1 = treeCpu(capture.pid!), s = (Date.now() - t0) / 1000;
  const made = await stop();
  capture.kill('SIGINT');
  await exited;
  // the summary: the last of the capture's lines about system visibility
  const summary = [...stderr.matchAll(/system visibility: [^\n]*/g)].pop()?.[0] ?? '';
  return `${(made / s).toFixed(0)} new connections/s, capture (parent and worker) ${(cpu1 - cpu0).toFixed(2)} s CPU in ${s.toFixed(1)} s ` +
    `= ${(100 * (cpu1 - cpu0) / s).toFixed(1)} % of a core${summary ? `; ${summary}` : ''}`;
}

async function inside(n: number, perSecond: number, seconds: number): Promise<void> {
  const server = net.createServer((s) => { s.resume(); s.on('end', () => s.end()); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(await new Promise<net.Socket>((r) => { const c = net.connect(port, '127.0.0.1', () => r(c)); }));
  }
  const sockets = 2 * n + 1;
  console.log(`${sockets} sockets open, ${perSecond} new connections/s asked, ${seconds} s each`);

  // 1. the whole tables at every poll, in this process
  const old = new SocketPoller(100, 180_000);
  old.start();
  old.cpuMicros = 0;
  old.polls = 0;
  const stop = churn(port, perSecond);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  old.stop();
  const made1 = await stop();
  const s1 = (Date.now() - t0) / 1000;
  console.log(`  whole tables at every 100 ms poll (in-process): ${(made1 / s1).toFixed(0)} new connections/s, ` +
    `${(old.cpuMicros / old.polls / 1000).toFixed(2)} ms CPU per poll, ${(old.cpuMicros / 1e4 / s1).toFixed(1)} % of one core`);

  console.log(`  capture, no system visibility: ${await captureRun(port, perSecond, seconds, null)}`);
  console.log(`  capture, --system-visibility-mode poll: ${await captureRun(port, perSecond, seconds, 'poll')}`);
  const counting = loadNative().bpfRunTimeStats(true);
  console.log(`  capture, --system-visibility-mode bpf: ${await captureRun(port, perSecond, seconds, 'bpf')}` +
    (counting ? '' : ' (the kernel would not count the programs\' run time)'));
  loadNative().bpfRunTimeStats(false);
  for (const c of clients) c.destroy();
  server.close();
}

const n = Number(process.argv[2] ?? 1000);
const perSecond = Number(process.argv[3] ?? 1000);
const seconds = Number(process.argv[4] ?? 10);
if (process.env.FLOWSEEK_BENCH_INSIDE) {
  void inside(n, perSecond, seconds);
} else {
  const ns = `fsbench${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename, String(n), String(perSecond), String(seconds)], {
      stdio: 'inherit', env: { ...process.env, FLOWSEEK_BENCH_INSIDE: '1' },
    });
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
