/**
 * Cost of --system-visibility with many sockets open, side by side in one run, in a network
 * namespace of its own: N TCP connections on loopback (2N sockets) held open, and a churn of R
 * short connections a second (each sends a byte and closes).
 *   1. the poller reading the whole socket tables at every 100 ms poll (the way before lookups);
 *   2. `flowseek capture -i lo --system-visibility` as shipped: each new flow's sockets looked up
 *      by its 5-tuple, the whole tables read once a second. Its own summary gives the cost.
 * Usage (root): node dist/bench/visibility.js [connections] [new connections/s]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { SocketPoller } from '../src/system/visibility';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'flowseek');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** R short connections a second until stopped; returns a stop function. */
function churn(port: number, perSecond: number): () => Promise<number> {
  let running = true;
  let made = 0;
  const done = (async () => {
    while (running) {
      const started = Date.now();
      await new Promise<void>((r) => {
        const c = net.connect(port, '127.0.0.1', () => { c.end('x'); });
        c.on('close', () => r());
        c.on('error', () => r());
      });
      made++;
      await sleep(Math.max(0, 1000 / perSecond - (Date.now() - started)));
    }
  })();
  return async () => { running = false; await done; return made; };
}

async function inside(n: number, perSecond: number): Promise<void> {
  const server = net.createServer((s) => { s.resume(); s.on('end', () => s.end()); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(await new Promise<net.Socket>((r) => { const c = net.connect(port, '127.0.0.1', () => r(c)); }));
  }
  const sockets = 2 * n + 1;

  // 1. the whole tables at every poll, in this process
  const old = new SocketPoller(100, 180_000);
  old.start();
  old.cpuMicros = 0;
  old.polls = 0;
  let stop = churn(port, perSecond);
  const t0 = Date.now();
  await sleep(5000);
  old.stop();
  const made1 = await stop();
  const s1 = (Date.now() - t0) / 1000;
  console.log(`${sockets} sockets, ${(made1 / s1).toFixed(0)} new connections/s — whole tables at every 100 ms poll: ` +
    `${(old.cpuMicros / old.polls / 1000).toFixed(2)} ms CPU per poll, ${(old.cpuMicros / 1e4 / s1).toFixed(1)} % of one core`);

  // 2. the capture as shipped, on this namespace's loopback
  const capture = spawn(process.execPath, [BIN, 'capture', '-i', 'lo', '--workers', '1', '--dissections', '0', '--system-visibility',
    '--system-visibility-poll-ms', '100', '--duration', '20', '--csv', '-o', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  capture.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => capture.on('exit', r));
  for (let i = 0; i < 100 && !/capturing on/.test(stderr); i++) await sleep(100);
  await sleep(500);
  stop = churn(port, perSecond);
  await exited;
  const made2 = await stop();
  const line = /system visibility: .*/.exec(stderr)?.[0] ?? `no summary: ${stderr.slice(-300)}`;
  console.log(`${sockets} sockets, ~${(made2 / 20).toFixed(0)} new connections/s — flowseek capture --system-visibility (lookups, ` +
    `whole tables once a second): ${line}`);
  for (const c of clients) c.destroy();
  server.close();
}

const n = Number(process.argv[2] ?? 4000);
const perSecond = Number(process.argv[3] ?? 50);
if (process.env.FLOWSEEK_BENCH_INSIDE) {
  void inside(n, perSecond);
} else {
  const ns = `fsbench${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename, String(n), String(perSecond)], {
      stdio: 'inherit', env: { ...process.env, FLOWSEEK_BENCH_INSIDE: '1' },
    });
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
