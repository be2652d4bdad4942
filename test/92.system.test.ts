/**
 * System visibility in a network namespace that stands for "this host": two client processes with
 * known names (links to node named fsvis-alpha and fsvis-beta) open TCP and UDP connections over
 * the veth; flowseek capture --system-visibility on that host gives each flow its process. Here the
 * sock_diag poller (--system-visibility-mode poll); kernel events in test/93.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { deleteNamespaces, vethPair } from './helpers/netns';
import { BIN, RUN_LIMIT } from './helpers/run';

const tag = String(process.pid % 100000);
const HOST = `fsvA${tag}`, PEER = `fsvB${tag}`, VH = `fsvh${tag}`, VP = `fsvp${tag}`;
const IP_H = '10.78.0.1', IP_P = '10.78.0.2';
const env = { ...process.env, NODE_OPTIONS: '' };
const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));

// the server is up before the clients start: they wait for the capture to begin
const PEER_SERVER = `
const net = require('net'), dgram = require('dgram');
net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('end', () => s.end()); }).listen(9200, '${IP_P}');
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(9201, '${IP_P}');
setTimeout(() => process.exit(0), 60000);
`;
/** TCP from local port base, UDP from base+1; with `short`, also a connection from base+2 that
 * closes at once, and one from base+3 that lives 300 ms (less than the 1 s between two reads of the
 * whole socket tables: found by its flow's lookup). */
const client = (base: number, short: boolean) => `
const net = require('net'), dgram = require('dgram');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const c = net.connect({ port: 9200, host: '${IP_P}', localAddress: '${IP_H}', localPort: ${base} });
  await new Promise((r) => c.once('connect', r));
  c.write('hello'); await new Promise((r) => c.once('data', r));
  const u = dgram.createSocket('udp4');
  await new Promise((r) => u.bind(${base + 1}, '${IP_H}', r));
  let got = 0; u.on('message', () => got++);
  for (let i = 0; i < 3; i++) { u.send('ping', 9201, '${IP_P}'); await sleep(20); }
  while (got < 3) await sleep(10);
  if (${short}) {
    const s = net.connect({ port: 9200, host: '${IP_P}', localAddress: '${IP_H}', localPort: ${base + 2} }, () => s.end('x'));
    s.resume();
    await new Promise((r) => s.on('close', r));
    const m = net.connect({ port: 9200, host: '${IP_P}', localAddress: '${IP_H}', localPort: ${base + 3} }, () => m.write('y'));
    m.resume();
    await sleep(300);
    m.end();
    await new Promise((r) => m.on('close', r));
  }
  await sleep(800);
  c.resume();
  c.end(); u.close();
  await new Promise((r) => c.on('close', r));
})();
`;


const missing = vethPair({ ns: HOST, dev: VH, addr: IP_H }, { ns: PEER, dev: VP, addr: IP_P });
if (missing) {
  t.test('system visibility', { skip: `skipped: ${missing}` }, async () => undefined);
} else {
  t.teardown(() => deleteNamespaces(HOST, PEER));

  t.test('capture --system-visibility: each flow carries the pid and name of its local process', async (t) => {
    const dir = tmpdir();
    const out = path.join(dir, 'visible.jsonl');
    const names = ['fsvis-alpha', 'fsvis-beta'];
    for (const n of names) fs.symlinkSync(process.execPath, path.join(dir, n));
    const server = spawn('ip', ['netns', 'exec', PEER, process.execPath, '-e', PEER_SERVER], { stdio: 'ignore', env });
    const capture = spawn('ip', ['netns', 'exec', HOST, process.execPath, BIN, 'capture', '-i', VH, '--workers', '1', '--dissections', '0',
      '--system-visibility', '--system-visibility-mode', 'poll', '--system-visibility-poll-ms', '100', '-o', out], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    capture.stderr.on('data', (d) => { stderr += d; });
    for (let i = 0; i < 100 && !/capturing on/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    const alpha = spawn('ip', ['netns', 'exec', HOST, path.join(dir, names[0]), '-e', client(43001, true)], { stdio: 'ignore', env });
    const beta = spawn('ip', ['netns', 'exec', HOST, path.join(dir, names[1]), '-e', client(44001, false)], { stdio: 'ignore', env });
    const pids = { [names[0]]: alpha.pid, [names[1]]: beta.pid };
    t.same([await exited(alpha), await exited(beta)], [0, 0], 'both clients ran');
    await new Promise((r) => setTimeout(r, 500));
    capture.kill('SIGINT');
    t.equal(await exited(capture), 0);
    server.kill();
    const flows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const local = flows.filter((f) => (f.src_ip === IP_H || f.dst_ip === IP_H) && (f.protocol === 6 || f.protocol === 17));
    const port = (f: Record<string, number>) => (f.src_ip as unknown as string) === IP_H ? f.src_port : f.dst_port;
    const expect: [number, string, string][] = [[43001, 'TCP', names[0]], [43002, 'UDP', names[0]], [44001, 'TCP', names[1]], [44002, 'UDP', names[1]]];
    for (const [p, what, name] of expect) {
      const f = local.find((x) => port(x) === p);
      t.ok(f, `${name}'s ${what} flow captured`);
      t.same([f?.system_process_name, f?.system_process_pid], [name, pids[name]], `${name}'s ${what} flow: pid ${pids[name]}, name ${name}`);
    }
    const short = local.find((x) => port(x) === 43003);
    t.ok(short, 'the short-lived connection was captured');
    t.comment(`short-lived connection (closed within one poll interval): ${short?.system_process_name ? `attributed to ${short.system_process_name}` : 'not attributed'}`);
    const medium = local.find((x) => port(x) === 43004);
    t.same([medium?.system_process_name, medium?.system_process_pid], [names[0], pids[names[0]]], 'the 300 ms connection: attributed');
    const matched = local.filter((f) => f.system_process_pid > 0).length;
    t.comment(`match rate: ${matched} of ${local.length} flows with a local endpoint`);
    t.ok(matched >= 5, 'every flow that lived 300 ms or more attributed');
    t.ok(flows.every((f) => 'system_process_cmdline' in f), 'the command line column is present');
    const alphaFlow = local.find((x) => port(x) === 43001);
    t.same([alphaFlow?.system_process_uid, alphaFlow?.system_process_user], [process.getuid?.(), os.userInfo().username], 'its user id and name');
    t.match(stderr, /system visibility: sock_diag polling \(--system-visibility-mode poll\)/, 'the mode said at the start');
    const summary = /system visibility: (\d+) of (\d+) TCP\/UDP flows matched a local process; (\d+) new flows looked up \((\d+) sockets found\), (\d+) polls, (\d+) reads of the whole tables/.exec(stderr);
    t.ok(summary, `cost and match rate in the summary: ${summary?.[0]}`);
    t.ok(Number(summary?.[3]) >= 6 && Number(summary?.[4]) >= 5, 'the new flows were looked up, and their sockets found');
    t.ok(Number(summary?.[6]) < Number(summary?.[5]), 'the whole tables read less often than the polls');
  });

  t.test('read refuses --system-visibility with a reason', async (t) => {
    const r = spawnSync(process.execPath, [BIN, 'read', path.join(__dirname, '..', '..', 'samples', 'sample.pcap'), '--system-visibility'], { ...RUN_LIMIT, encoding: 'utf8' });
    t.equal(r.status, 2);
    t.match(r.stderr, /needs live traffic of this host: use it with "flowseek capture"/);
  });
}

t.test('socketChanges: the sockets that appeared, then only those that went', async (t) => {
  const net = await import('node:net');
  const { loadNative } = await import('../src/native');
  const { procHex } = await import('../src/system/sockets');
  const native = loadNative();
  const server = net.createServer((s) => s.resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const client = await new Promise<import('node:net').Socket>((r) => { const c = net.connect(port, '127.0.0.1', () => r(c)); });
  const local = (client.address() as import('node:net').AddressInfo).port;
  const key = `6|${procHex('127.0.0.1', local)[0]}|${procHex('127.0.0.1', port)[0]}`;
  const first = native.socketChanges(true);
  if (!first) { t.comment('no sock_diag in this kernel'); server.close(); client.destroy(); return; }
  t.ok(first.added.includes(key), 'every socket at the first call, the client among them');
  t.equal(first.added.length, first.inodes.length);
  const second = native.socketChanges();
  t.same([second?.added.length, second?.gone.length], [0, 0], 'then nothing, while nothing changes');
  client.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const third = native.socketChanges();
  t.ok(third?.gone.includes(key), 'the closed client is gone');
  server.close();
});

t.test('socketLookup: the sockets of the flows a meter saw begin, by their 5-tuples', async (t) => {
  const net = await import('node:net');
  const dgram = await import('node:dgram');
  const { loadNative } = await import('../src/native');
  const { procHex } = await import('../src/system/sockets');
  const { FlowStreamer } = await import('../src/streamer');
  const { parseMeterOptions } = await import('../src/options');
  const { DLT, ether, ipv4, tcp, udp, writePcap } = await import('./helpers/packets');
  const server = net.createServer((s) => s.resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const client = await new Promise<import('node:net').Socket>((r) => { const c = net.connect(port, '127.0.0.1', () => r(c)); });
  const local = (client.address() as import('node:net').AddressInfo).port;
  const bound = dgram.createSocket('udp4');
  await new Promise<void>((r) => bound.bind(0, '127.0.0.1', () => r()));
  const uport = bound.address().port;
  t.teardown(() => { client.destroy(); server.close(); bound.close(); });
  // packets of those very flows, as a capture of this host would hold them; and one to no socket
  const file = writePcap('lookup.pcap', DLT.EN10MB, [
    { t: 1, frame: ether(0x0800, ipv4('127.0.0.1', '127.0.0.1', 6, tcp(local, port))) },
    { t: 1.1, frame: ether(0x0800, ipv4('127.0.0.1', '127.0.0.1', 17, udp(40000, uport, Buffer.from('hi')))) },
    { t: 1.2, frame: ether(0x0800, ipv4('127.0.0.1', '127.0.0.1', 17, udp(40001, 9, Buffer.from('no one')))) },
  ]);
  const streamer = new FlowStreamer({ ...parseMeterOptions({}), files: [file], reportNewFlows: true });
  const reported: Buffer[] = [];
  streamer.onNewFlows = (keys) => reported.push(keys);
  for await (const _ of streamer.batches()) { /* flows are not the point */ }
  const keys = Buffer.concat(reported);
  t.equal(keys.length, 3 * 48, 'three new flows reported, 48 bytes each');
  const found = loadNative().socketLookup(keys);
  if (!found) { t.comment('no sock_diag in this kernel'); return; }
  const hex = (p: number) => procHex('127.0.0.1', p)[0];
  t.same([...found.added].sort(), [`6|${hex(local)}|${hex(port)}`, `6|${hex(port)}|${hex(local)}`, `17|${hex(uport)}|*`].sort(),
    'both ends of the TCP connection, and the bound UDP socket; nothing for the port without one');
  t.ok([...found.inodes].every((i) => i > 0), 'each with its inode');
  t.throws(() => loadNative().socketLookup('x' as unknown as Buffer), /newFlowKeys/, 'anything but a Buffer is refused');
});
