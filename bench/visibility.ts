/**
 * Cost of --system-visibility's poller with many sockets open: in a network namespace of its own,
 * N TCP connections on loopback (2N sockets) held open while the poller reads the socket tables
 * every 100 ms for a few seconds. Prints CPU per poll and the share of one core.
 * Usage (root): node dist/bench/visibility.js [connections]   (re-runs itself inside the namespace)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { SocketPoller } from '../src/system/visibility';

async function inside(n: number): Promise<void> {
  const server = net.createServer((s) => s.resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(await new Promise<net.Socket>((r) => { const c = net.connect(port, '127.0.0.1', () => r(c)); }));
  }
  // the process's own CPU with the same sockets and no poller: what the poller's share is measured against
  const idleBefore = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 2000));
  const idleUsed = process.cpuUsage(idleBefore);
  const idleShare = (idleUsed.user + idleUsed.system) / 1e4 / 2;
  const poller = new SocketPoller(100, 180_000);
  poller.start();
  // the first poll looks up every socket's owner once; what follows is the steady cost
  const first = poller.cpuMicros / 1000;
  poller.cpuMicros = 0;
  poller.polls = 0;
  const started = Date.now();
  await new Promise((r) => setTimeout(r, 5000));
  poller.stop();
  const seconds = (Date.now() - started) / 1000;
  const found = poller.match(6, '127.0.0.1', (clients[0].address() as net.AddressInfo).port, '127.0.0.1', port);
  console.log(`${n} connections (${2 * n + 1} sockets): ${poller.polls} polls in ${seconds.toFixed(1)} s, ` +
    `${(poller.cpuMicros / poller.polls / 1000).toFixed(2)} ms CPU per poll, ${(poller.cpuMicros / 1e4 / seconds).toFixed(1)} % of one core; ` +
    `first poll ${first.toFixed(0)} ms; a client found: ${found?.pid === process.pid}; the process idle without a poller: ${idleShare.toFixed(1)} %`);
  for (const c of clients) c.destroy();
  server.close();
}

const n = Number(process.argv[2] ?? 2000);
if (process.env.FLOWSEEK_BENCH_INSIDE) {
  void inside(n);
} else {
  const ns = `fsbench${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename, String(n)], { stdio: 'inherit', env: { ...process.env, FLOWSEEK_BENCH_INSIDE: '1' } });
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
