/**
 * Soak test of a long capture (not in the test run; needs root for its network namespaces):
 * two namespaces joined by a veth pair; `flowseek capture --workers 2` on one end; from the other a
 * steady stream of new flows — UDP datagrams, each from a new source port, RATE a second, counted —
 * for MINUTES; the resident memory of every flowseek process (parent and workers) sampled every few
 * seconds; then SIGTERM. Checks: exit 0, the flows written with the generator's ports equal the
 * datagrams sent, and memory flat once the flow table is full (slope after warm-up).
 *   npm run soak -- --minutes 10 --rate 200 --idle-timeout 5
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'flowseek');
const tag = String(process.pid % 100000);
const NS_A = `soakA${tag}`, NS_B = `soakB${tag}`, VA = `soka${tag}`, VB = `sokb${tag}`;
const IP_A = '10.79.0.1', IP_B = '10.79.0.2', PORT = 9999;
const FIRST_PORT = 20000, PORTS = 40000; // source ports cycle; a port comes back long after its flow ended
const env = { ...process.env, NODE_OPTIONS: '' };

function args(): { minutes: number; rate: number; idle: number; sampleS: number; maxSlope: number } {
  const a = { minutes: 10, rate: 200, idle: 5, sampleS: 5, maxSlope: 20 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const v = Number(argv[i + 1]);
    const key = ({ '--minutes': 'minutes', '--rate': 'rate', '--idle-timeout': 'idle', '--sample': 'sampleS', '--max-slope': 'maxSlope' } as const)[argv[i] as '--minutes'];
    if (!key || !(v > 0)) {
      console.error('soak: --minutes M --rate FLOWS_PER_S --idle-timeout S --sample S --max-slope MB_PER_HOUR');
      process.exit(2);
    }
    a[key] = v;
  }
  if (a.rate * a.idle * 4 > PORTS) { console.error('soak: rate × idle timeout too high for the source ports'); process.exit(2); }
  return a;
}

const ip = (...a: string[]) => {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr.trim()}`);
};
const inNs = (ns: string, cmd: string[], stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe']): ChildProcess =>
  spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: stdio as never, env });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));

/** Sends rate datagrams a second for seconds, each from the next source port; prints how many went. */
const GENERATOR = (rate: number, seconds: number) => `
const dgram = require('dgram');
let sent = 0, failed = 0, next = 0, due = 0;
const started = Date.now();
const one = () => {
  const port = ${FIRST_PORT} + (next++ % ${PORTS});
  const s = dgram.createSocket('udp4');
  s.on('error', () => { failed++; s.close(); });
  s.bind(port, '${IP_B}', () => s.send('soak', ${PORT}, '${IP_A}', (e) => { if (e) failed++; else sent++; s.close(); }));
};
const tick = setInterval(() => {
  const t = Math.min(Date.now() - started, ${seconds * 1000});
  const want = Math.floor(t * ${rate} / 1000);
  while (due < want) { one(); due++; }
  if (t >= ${seconds * 1000}) { clearInterval(tick); setTimeout(() => console.log(JSON.stringify({ sent, failed, due })), 1000); }
}, 20);`;

/** pid → VmRSS in kB, for the capture's parent and its children */
function rss(parent: number): Map<number, number> {
  const out = new Map<number, number>();
  const read = (pid: number) => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) out.set(pid, Number(m[1]));
    } catch { /* gone */ }
  };
  read(parent);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) read(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

/** least-squares slope of y over x */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n, my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0), sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return sxx ? sxy / sxx : 0;
}

async function main(): Promise<number> {
  const a = args();
  if (process.getuid?.() !== 0) { console.error('soak: needs root (network namespaces)'); return 1; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-soak-'));
  const out = path.join(dir, 'flows.jsonl');
  ip('netns', 'add', NS_A);
  ip('netns', 'add', NS_B);
  const children: ChildProcess[] = [];
  try {
    ip('link', 'add', VA, 'netns', NS_A, 'type', 'veth', 'peer', 'name', VB, 'netns', NS_B);
    for (const [ns, dev, addr] of [[NS_A, VA, IP_A], [NS_B, VB, IP_B]]) {
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    const sink = inNs(NS_A, [process.execPath, '-e', `require('dgram').createSocket('udp4').on('message', () => {}).bind(${PORT}, '${IP_A}')`]);
    children.push(sink);
    const capture = inNs(NS_A, [process.execPath, BIN, 'capture', '-i', VA, '--workers', '2', '--idle-timeout', String(a.idle),
      '-o', out, '--log-format', 'json']);
    children.push(capture);
    let stderr = '';
    capture.stderr?.on('data', (d) => { stderr += d; });
    // ready when both workers' packet sockets are open
    const sockets = () => spawnSync('ip', ['netns', 'exec', NS_A, 'cat', '/proc/net/packet'], { encoding: 'utf8' }).stdout.trim().split('\n').length - 1;
    for (let i = 0; i < 300 && sockets() < 2; i++) await sleep(100);
    if (sockets() < 2) throw new Error(`the capture did not open its sockets: ${stderr}`);
    await sleep(500);
    const seconds = Math.round(a.minutes * 60);
    console.error(`soak: ${a.minutes} min, ${a.rate} new flows/s, idle timeout ${a.idle} s, RSS every ${a.sampleS} s`);
    const gen = inNs(NS_B, [process.execPath, '-e', GENERATOR(a.rate, seconds)]);
    children.push(gen);
    let genOut = '';
    gen.stdout?.on('data', (d) => { genOut += d; });
    const samples: { t: number; rss: Map<number, number> }[] = [];
    const started = Date.now();
    const genDone = exited(gen);
    let done = false;
    void genDone.then(() => { done = true; });
    while (!done) {
      samples.push({ t: (Date.now() - started) / 1000, rss: rss(capture.pid as number) });
      await sleep(a.sampleS * 1000);
    }
    const { sent, failed } = JSON.parse(genOut) as { sent: number; failed: number };
    await sleep((a.idle + 3) * 1000); // the last flows expire by idle timeout: then the table is empty
    samples.push({ t: (Date.now() - started) / 1000, rss: rss(capture.pid as number) });
    const stopAt = Date.now();
    capture.kill('SIGTERM');
    const code = await Promise.race([exited(capture), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 120000).unref())]);
    const stopS = (Date.now() - stopAt) / 1000;

    // the generator's flows in the output: UDP from B's address to the sink's port
    let written = 0, packets = 0, lines = 0, bad = 0;
    if (fs.existsSync(out)) {
      for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
        if (!line) continue;
        lines++;
        try {
          const f = JSON.parse(line) as Record<string, number | string>;
          if (f.protocol === 17 && f.src_ip === IP_B && f.dst_port === PORT && Number(f.src_port) >= FIRST_PORT) {
            written++;
            packets += Number(f.bidirectional_packets);
          }
        } catch { bad++; }
      }
    }
    // memory: per process, first / last / max, and the slope after warm-up (twice the idle timeout and 30 s)
    const warm = 2 * a.idle + 30;
    const pids = [...new Set(samples.flatMap((s) => [...s.rss.keys()]))];
    const report: string[] = [];
    let worst = 0;
    for (const pid of pids) {
      const series = samples.filter((s) => s.rss.has(pid)).map((s) => [s.t, (s.rss.get(pid) as number) / 1024] as [number, number]);
      const after = series.filter(([t]) => t >= warm && t <= seconds);
      const mbPerHour = slope(after) * 3600;
      // growth that levels off (heaps settling) against growth that goes on: the last half alone
      const lastHalf = slope(after.slice(Math.floor(after.length / 2))) * 3600;
      worst = Math.max(worst, mbPerHour);
      const role = pid === capture.pid ? 'parent' : 'worker';
      report.push(`  ${role} ${pid}: first ${series[0][1].toFixed(1)} MB, last ${series[series.length - 1][1].toFixed(1)} MB, ` +
        `max ${Math.max(...series.map((p) => p[1])).toFixed(1)} MB, slope after ${warm} s ${mbPerHour.toFixed(2)} MB/h, over the last half ${lastHalf.toFixed(2)} MB/h (${after.length} samples)`);
    }
    const ok = code === 0 && failed === 0 && written === sent && packets === sent && bad === 0 && worst <= a.maxSlope;
    console.log([
      `soak: ${ok ? 'PASS' : 'FAIL'}`,
      `  datagrams sent ${sent} (${failed} failed), flows written with the generator's ports ${written} (${packets} packets), ` +
        `${lines} rows in all${bad ? `, ${bad} unparsable` : ''}`,
      `  SIGTERM: exit ${code} after ${stopS.toFixed(1)} s`,
      ...report,
      `  the capture's last lines: ${stderr.trim().split('\n').slice(-2).join(' | ')}`,
    ].join('\n'));
    return ok ? 0 : 1;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', NS_A]);
    spawnSync('ip', ['netns', 'del', NS_B]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then((c) => { process.exitCode = c; }, (e) => { console.error(`soak: ${(e as Error).message}`); process.exitCode = 1; });
