/**
 * System visibility for connections that live under a millisecond. In a network namespace that
 * stands for "this host", two programs with distinct names (test/helpers/sockburst.c, compiled and
 * copied as fsvis-client and fsvis-server): the client makes 25 TCP connections and 25
 * single-datagram UDP exchanges to the peer over IPv4, the server answers as many from the peer over
 * IPv6, and each side has one long connection of each kind. Both programs have exited before the
 * capture ends. With kernel events (--system-visibility-mode bpf) every one of those flows carries
 * the right pid and name; the sock_diag poller (poll) runs the same load and reports its own rate.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { deleteNamespaces, ip, vethPair } from './helpers/netns';
import { BIN, binForOthers, RUN_LIMIT } from './helpers/run';
import { loadNative } from '../src/native';

const tag = String(process.pid % 100000);
const HOST = `fseA${tag}`, PEER = `fseB${tag}`, VH = `fseh${tag}`, VP = `fsep${tag}`;
const IP_H = '10.79.0.1', IP_P = '10.79.0.2', IP6_H = 'fd00:79::1', IP6_P = 'fd00:79::2';
const SHORT = 25;
const env = { ...process.env, NODE_OPTIONS: '' };
const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until ready() holds, looking every 50 ms, for at most ms. */
async function until(ready: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !ready() && Date.now() < end;) await sleep(50);
}

/** Why BPF cannot run here, or undefined: the same load the capture would do. */
function bpfUnavailable(): string | undefined {
  const native = loadNative();
  const why = native.bpfStart(0);
  if (why === null) native.bpfStop();
  return why ?? undefined;
}

/** Spawns and waits for its first line ("ready" from a server). */
async function started(cmd: string[], name: string): Promise<ChildProcess> {
  const c = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  c.stdout.on('data', (d) => { out += d; });
  for (let i = 0; i < 100 && !out.includes('\n'); i++) await sleep(50);
  if (!out.includes('ready')) throw new Error(`${name} did not start`);
  return c;
}

interface Run { flows: Record<string, unknown>[]; pids: Record<string, number>; ports: Record<string, Set<string>>; stderr: string; code: number | null }

/** One capture on the host's end in this mode, around the whole exchange. */
async function capture(dir: string, mode: string): Promise<Run> {
  const out = path.join(dir, `${mode}.jsonl`);
  const bin = (name: string) => path.join(dir, name);
  // the peer: a server for the host's client, a client of the host's server (started later)
  const peerServer = await started(['ip', 'netns', 'exec', PEER, bin('fsvis-peer'), 'server', IP_P, '9300', '9301'], 'the peer\'s server');
  const hostServer = await started(['ip', 'netns', 'exec', HOST, bin('fsvis-server'), 'server', IP6_H, '9310', '9311'], 'the host\'s server');
  const cap = spawn('ip', ['netns', 'exec', HOST, process.execPath, BIN, 'capture', '-i', VH, '--workers', '1', '--dissections', '0',
    '--system-visibility', '--system-visibility-mode', mode, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  cap.stderr.on('data', (d) => { stderr += d; });
  for (let i = 0; i < 100 && !/capturing on/.test(stderr) && cap.exitCode === null; i++) await sleep(100);
  await sleep(1000);
  const client = spawnSync('ip', ['netns', 'exec', HOST, bin('fsvis-client'), 'client', IP_P, '9300', '9301', String(SHORT), '1500'], { encoding: 'utf8', env });
  const peerClient = spawnSync('ip', ['netns', 'exec', PEER, bin('fsvis-peer'), 'client', IP6_H, '9310', '9311', String(SHORT), '1500'], { encoding: 'utf8', env });
  if (client.status !== 0 || peerClient.status !== 0) throw new Error(`clients failed: ${client.stderr} ${peerClient.stderr}`);
  const pids = { 'fsvis-client': client.pid, 'fsvis-server': hostServer.pid! };
  // the host's ports of each program's flows: the client's own, the server's listening ones
  const ports = {
    'fsvis-client': new Set(client.stdout.trim().split('\n')),
    'fsvis-server': new Set(['tcp 9310', 'udp 9311']),
  };
  await sleep(500);
  hostServer.kill();
  peerServer.kill();
  await Promise.all([exited(hostServer), exited(peerServer)]);
  cap.kill('SIGINT');
  const code = await exited(cap);
  const flows = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  return { flows, pids, ports, stderr, code };
}

/** Each test flow with the program that should own it, by the host's end of it. */
function expected(run: Run): { flow: Record<string, unknown>; owner: string }[] {
  const out: { flow: Record<string, unknown>; owner: string }[] = [];
  for (const f of run.flows) {
    const proto = f.protocol === 6 ? 'tcp' : f.protocol === 17 ? 'udp' : '';
    if (!proto) continue;
    const hostPort = f.src_ip === IP_H || f.src_ip === IP6_H ? f.src_port : f.dst_port;
    for (const [owner, ports] of Object.entries(run.ports)) if (ports.has(`${proto} ${hostPort}`)) out.push({ flow: f, owner });
  }
  return out;
}

/** Flows per program and protocol: each side makes SHORT short ones and a long one of each. */
function counts(flows: { flow: Record<string, unknown>; owner: string }[]): number[] {
  const count = (owner: string, p: number) => flows.filter((x) => x.owner === owner && x.flow.protocol === p).length;
  return [count('fsvis-client', 6), count('fsvis-client', 17), count('fsvis-server', 6), count('fsvis-server', 17)];
}

const bpfWhy = process.getuid?.() === 0 ? bpfUnavailable() : 'needs root';
const unavailable = process.getuid?.() !== 0 ? 'needs root' : spawnSync('cc', ['--version']).status !== 0 ? 'no C compiler (cc)' : undefined;
const missing = unavailable ?? vethPair({ ns: HOST, dev: VH, addr: IP_H }, { ns: PEER, dev: VP, addr: IP_P });
if (missing) {
  t.test('system visibility of short-lived sockets', { skip: `skipped: ${missing}` }, async () => undefined);
} else {
  t.teardown(() => deleteNamespaces(HOST, PEER));
  ip('-n', HOST, 'addr', 'add', `${IP6_H}/64`, 'dev', VH, 'nodad');
  ip('-n', PEER, 'addr', 'add', `${IP6_P}/64`, 'dev', VP, 'nodad');
  const dir = tmpdir();
  const src = path.join(__dirname, '..', '..', 'test', 'helpers', 'sockburst.c');
  execFileSync('cc', ['-O2', '-Wall', '-o', path.join(dir, 'sockburst'), src]);
  for (const name of ['fsvis-client', 'fsvis-server', 'fsvis-peer']) fs.copyFileSync(path.join(dir, 'sockburst'), path.join(dir, name));
  fs.chmodSync(dir, 0o755);

  t.test('kernel events: every short-lived flow carries its pid and name', { skip: bpfWhy ? `skipped: BPF cannot load here: ${bpfWhy}` : false }, async (t) => {
    const run = await capture(dir, 'bpf');
    t.equal(run.code, 0, 'the capture ended well');
    t.match(run.stderr, /system visibility: BPF kernel events/, 'the mode said at the start');
    const flows = expected(run);
    t.same(counts(flows), [SHORT + 1, SHORT + 1, SHORT + 1, SHORT + 1], 'every connection and exchange captured as a flow of its own');
    const wrong = flows.filter((x) => x.flow.system_process_pid !== run.pids[x.owner] || x.flow.system_process_name !== x.owner);
    t.same(wrong.map((x) => `${x.flow.protocol} ${x.flow.src_ip}:${x.flow.src_port} > ${x.flow.dst_ip}:${x.flow.dst_port}: ` +
      `${x.flow.system_process_name}/${x.flow.system_process_pid}, not ${x.owner}/${run.pids[x.owner]}`), [],
      `all ${flows.length} flows attributed to the right pid and name (100 %), though both programs had exited`);
    const one = flows.find((x) => x.owner === 'fsvis-client')?.flow;
    t.match(one?.system_process_cmdline, /fsvis-client client 10\.79\.0\.2 9300 9301/, 'with the command line, read at connect time');
    t.same([one?.system_process_uid, one?.system_process_user], [process.getuid?.(), os.userInfo().username], 'and the user');
    t.match(run.stderr, /system visibility: \d+ of \d+ TCP\/UDP flows matched a local process \(BPF\); \d+ socket events read \(0 lost/);
  });

  t.test('kernel events: a TCP connection made before the capture began is labelled too (its sockets read once at the start)',
    { skip: bpfWhy ? `skipped: BPF cannot load here: ${bpfWhy}` : false }, async (t) => {
    // a server in the peer; the host's client connects, then writes every 50 ms: no connect or accept comes during the capture
    const server = await started(['ip', 'netns', 'exec', PEER, process.execPath, '-e',
      `require('net').createServer((s) => s.resume()).listen(9400, '${IP_P}', () => console.log('ready'))`], 'the early server');
    const client = await started(['ip', 'netns', 'exec', HOST, process.execPath, '-e',
      `const c = require('net').connect(9400, '${IP_P}', () => { console.log('ready'); setInterval(() => c.write('x'), 50); })`], 'the early client');
    const out = path.join(dir, 'early.jsonl');
    const run = spawnSync('ip', ['netns', 'exec', HOST, process.execPath, BIN, 'capture', '-i', VH, '--workers', '1', '--dissections', '0',
      '--system-visibility', '--system-visibility-mode', 'bpf', '--duration', '2', '-o', out], { encoding: 'utf8', env });
    client.kill();
    server.kill();
    await Promise.all([exited(client), exited(server)]);
    t.equal(run.status, 0, run.stderr.slice(-300));
    const flows = fs.readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const early = flows.find((f) => f.protocol === 6 && (f.dst_port === 9400 || f.src_port === 9400));
    t.ok(early, 'the connection was captured');
    t.same([early?.system_process_pid, early?.system_process_name], [client.pid, 'node'], 'and carries its client\'s pid and name (it had none)');
  });

  t.test('sock_diag polling: the same load, its rate reported', async (t) => {
    const run = await capture(dir, 'poll');
    t.equal(run.code, 0, 'the capture ended well');
    const flows = expected(run);
    t.same(counts(flows), [SHORT + 1, SHORT + 1, SHORT + 1, SHORT + 1], 'every connection and exchange captured as a flow of its own');
    const right = flows.filter((x) => x.flow.system_process_pid === run.pids[x.owner] && x.flow.system_process_name === x.owner).length;
    t.comment(`poll mode: ${right} of ${flows.length} flows attributed (${(100 * right / flows.length).toFixed(0)} %); connections under a millisecond come and go between polls`);
    t.ok(flows.every((x) => x.flow.system_process_pid === 0 || x.flow.system_process_name === x.owner), 'none attributed to a wrong process');
  });

  const setpriv = spawnSync('setpriv', ['--version']).status === 0;
  t.test('polling as another user (nobody, with only the capture\'s capabilities): the processes it cannot read are said',
    { skip: !setpriv ? 'skipped: no setpriv (util-linux)' : binForOthers().why ?? false }, async (t) => {
    // a root process's connection in the namespace: its owner is looked for, and cannot be read
    const server = await started(['ip', 'netns', 'exec', PEER, process.execPath, '-e',
      `require('net').createServer((s) => s.resume()).listen(9401, '${IP_P}', () => console.log('ready'))`], 'the server');
    const client = await started(['ip', 'netns', 'exec', HOST, process.execPath, '-e',
      `const c = require('net').connect(9401, '${IP_P}', () => { console.log('ready'); setInterval(() => c.write('x'), 50); })`], 'the client');
    const open = fs.mkdtempSync(path.join(dir, 'nobody-'));
    fs.chmodSync(open, 0o777); // nobody writes its output here
    const out = path.join(open, 'nobody.csv');
    // env -i: none of the test runner's loaders (they live in this checkout, which may be closed to nobody)
    const r = spawnSync('ip', ['netns', 'exec', HOST, 'env', '-i', `PATH=${process.env.PATH}`, 'setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups',
      '--inh-caps', '+net_raw,+net_admin', '--ambient-caps', '+net_raw,+net_admin', process.execPath, binForOthers().bin as string,
      'capture', '-i', VH, '--workers', '1', '--system-visibility', '--system-visibility-mode', 'poll', '--duration', '1.5', '-o', out],
    { encoding: 'utf8' });
    client.kill();
    server.kill();
    await Promise.all([exited(client), exited(server)]);
    t.equal(r.status, 0, r.stderr.slice(-300));
    t.match(r.stderr, /flowseek: warning: system visibility: the sockets of \d+ processes of other users could not be read \(flowseek runs without CAP_SYS_PTRACE or root\): flows of theirs are not labelled/);
  });
  t.test('auto mode where BPF may not load (no CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN): the poller, and one line that says why',
    { skip: setpriv ? false : 'skipped: no setpriv (util-linux)' }, async (t) => {
    const r = spawnSync('ip', ['netns', 'exec', HOST, 'setpriv', '--bounding-set', '-bpf,-perfmon,-sys_admin', '--inh-caps', '-bpf,-perfmon,-sys_admin',
      process.execPath, BIN, 'capture', '-i', VH, '--workers', '1', '--system-visibility', '--duration', '1', '--csv', '-o', path.join(dir, 'auto.csv')],
    { encoding: 'utf8', env });
    t.equal(r.status, 0, `the capture ran: ${r.stderr.slice(-300)}`);
    t.match(r.stderr, /system visibility: sock_diag polling, as BPF cannot be used: not permitted to load the BPF programs \(needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN\)/);
    const forced = spawnSync('ip', ['netns', 'exec', HOST, 'setpriv', '--bounding-set', '-bpf,-perfmon,-sys_admin', '--inh-caps', '-bpf,-perfmon,-sys_admin',
      process.execPath, BIN, 'capture', '-i', VH, '--workers', '1', '--system-visibility', '--system-visibility-mode', 'bpf', '--duration', '1', '--csv', '-o', path.join(dir, 'forced.csv')],
    { encoding: 'utf8', env });
    t.equal(forced.status, 1, '--system-visibility-mode bpf fails instead');
    t.match(forced.stderr, /--system-visibility-mode bpf: not permitted/);
  });
}

t.test('kernel events: a closed TCP socket is forgotten after the grace period, an open one kept', { skip: bpfWhy ? `skipped: BPF cannot load here: ${bpfWhy}` : false }, async (t) => {
  const net = await import('node:net');
  const native = loadNative();
  t.equal(native.bpfStart(300), null, 'started, with a grace period of 300 ms');
  try {
    const server = net.createServer((s) => { s.resume(); s.on('end', () => s.end()); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const connect = () => new Promise<import('node:net').Socket>((r) => { const c = net.connect(port, '127.0.0.1', () => r(c)); });
    const [closed, open] = [await connect(), await connect()];
    const local = [closed.localPort!, open.localPort!];
    const owner = (p: number) => native.bpfMatch(new Float64Array([6]), ['127.0.0.1'], new Float64Array([p]), ['127.0.0.1'], new Float64Array([port])).pid[0];
    // the events reach the table through the reader thread: waited for, not a fixed time
    await until(() => local.every((p) => owner(p) === process.pid), 5000);
    t.same(local.map(owner), [process.pid, process.pid], 'both connections: this process');
    closed.end();
    await new Promise((r) => closed.on('close', r));
    await sleep(300); // the grace period; then the reader's sweep (once a second)
    await until(() => owner(local[0]) === 0, 10_000);
    t.same(local.map(owner), [0, process.pid], 'the closed one forgotten (both ends closed), the open one kept');
    open.destroy();
    server.close();
  } finally {
    native.bpfStop();
  }
});

t.test('--system-visibility-mode takes bpf, poll or auto', async (t) => {
  const r = spawnSync(process.execPath, [BIN, 'capture', '-i', 'lo', '--system-visibility', '--system-visibility-mode', 'kprobe'], { ...RUN_LIMIT, encoding: 'utf8', env });
  t.equal(r.status, 2);
  t.match(r.stderr, /--system-visibility-mode <mode>' argument 'kprobe' is invalid. Allowed choices are bpf, poll, auto/);
});
