/**
 * Live capture on a network the test builds: two namespaces joined by a veth pair, traffic the
 * test generates between them (UDP with known packet counts each way, ICMP echo, TCP), flowseek
 * capturing on one end with two fanout workers, stopped by SIGINT. No other interface is touched.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { deleteNamespaces, ip, vethPair } from './helpers/netns';
import { BIN, cli, ROOT } from './helpers/run';

const tag = String(process.pid % 100000);
const NS_A = `fsA${tag}`, NS_B = `fsB${tag}`, VA = `fsa${tag}`, VB = `fsb${tag}`;
const IP_A = '10.77.0.1', IP_B = '10.77.0.2';
// the runner's loaders (NODE_OPTIONS) stay out of flowseek: its workers drop privileges and could
// not write the runner's process records
const env = { ...process.env, NODE_OPTIONS: '' };


function inNs(ns: string, args: string[], stdio: 'pipe' | 'ignore' = 'pipe'): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', stdio, 'pipe'], env });
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));

/** UDP echo and TCP sink in A; in B, UDP flow i sends i+2 datagrams (each echoed), one TCP connection. */
const SERVER = `
const dgram = require('dgram'), net = require('net');
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(9000, '${IP_A}');
net.createServer((s) => { s.on('data', () => {}); s.on('end', () => s.end()); }).listen(9100, '${IP_A}');
setTimeout(() => process.exit(0), 60000);
`;
const CLIENT = `
const dgram = require('dgram'), net = require('net');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  for (let i = 0; i < 8; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise((r) => s.bind(41000 + i, '${IP_B}', r));
    let got = 0;
    s.on('message', () => got++);
    for (let k = 0; k < i + 2; k++) { s.send('flowseek-' + i, 9000, '${IP_A}'); await sleep(10); }
    while (got < i + 2) await sleep(10);
    s.close();
  }
  await new Promise((r) => { const c = net.connect(9100, '${IP_A}', () => { c.write('hello'); c.end(); }); c.on('close', r); c.resume(); });
})();
`;

function runTests(): void {
  t.test('capture --workers 2 on a veth: every flow once, exact packets each way, stopped by SIGINT', async (t) => {
    const out = path.join(tmpdir(), 'live.jsonl');
    const server = inNs(NS_A, [process.execPath, '-e', SERVER], 'ignore');
    // with a plugin counting packets in JavaScript, which each worker loads once it has dropped its
    // privileges: copied to a folder others may read (the checkout may be private)
    const open = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-plugin-'));
    t.teardown(() => fs.rmSync(open, { recursive: true, force: true }));
    fs.chmodSync(open, 0o755);
    const counter = path.join(open, 'count.js');
    fs.copyFileSync(path.join(ROOT, 'bench', 'trivial-plugin.js'), counter);
    fs.chmodSync(counter, 0o644);
    const capture = inNs(NS_A, [process.execPath, BIN, 'capture', '-i', VA, '--workers', '2', '--dissections', '0', '-o', out, '--report', '1', '--plugin', counter]);
    let stderr = '';
    capture.stderr?.on('data', (d) => { stderr += d; });
    for (let i = 0; i < 100 && !/capturing on/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500)); // the workers join the fanout group
    const client = inNs(NS_B, [process.execPath, '-e', CLIENT], 'ignore');
    t.equal(await exited(client), 0, 'UDP and TCP traffic sent');
    const ping = spawnSync('ip', ['netns', 'exec', NS_B, 'ping', '-c', '3', '-i', '0.2', IP_A], { encoding: 'utf8' });
    t.equal(ping.status, 0, 'three echo requests answered');
    await new Promise((r) => setTimeout(r, 1500));
    const workers = spawnSync('pgrep', ['-P', String(capture.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    t.equal(workers.length, 2, 'two worker processes');
    for (const pid of workers) {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      t.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m, `worker ${pid} runs as nobody once its capture is open`);
      t.match(status, /^CapEff:\s+0+$/m, `worker ${pid} has no capability left`);
    }
    capture.kill('SIGINT');
    t.equal(await exited(capture), 0, 'a signal ends a capture normally: exit 0');
    server.kill();
    t.match(stderr, /SIGINT: stopping/);
    t.match(stderr, /packets per worker \d+\/\d+/, 'the report shows the per-worker balance');
    const flows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const between = flows.filter((f) => [f.src_ip, f.dst_ip].sort().join() === [IP_A, IP_B].sort().join());
    for (let i = 0; i < 8; i++) {
      const mine = between.filter((f) => f.protocol === 17 && f.src_port === 41000 + i && f.dst_port === 9000);
      t.equal(mine.length, 1, `UDP flow ${i}: reported once`);
      t.same([mine[0]?.src2dst_packets, mine[0]?.dst2src_packets], [i + 2, i + 2], `UDP flow ${i}: ${i + 2} packets each way`);
      t.equal(mine[0]?.src_ip, IP_B, `UDP flow ${i}: src is the sender of the first packet`);
    }
    const icmp = between.filter((f) => f.protocol === 1);
    t.equal(icmp.length, 1, 'ICMP echo: one flow');
    t.same([icmp[0]?.src2dst_packets, icmp[0]?.dst2src_packets], [3, 3], 'ICMP: 3 requests, 3 replies');
    const tcp = between.filter((f) => f.protocol === 6 && f.dst_port === 9100);
    t.equal(tcp.length, 1, 'TCP: one flow, not split between workers');
    t.ok(tcp[0]?.src2dst_packets >= 4 && tcp[0]?.dst2src_packets >= 3, `TCP: handshake, data and close both ways (${tcp[0]?.src2dst_packets}/${tcp[0]?.dst2src_packets})`);
    t.equal(new Set(flows.map((f) => f.id)).size, flows.length, 'ids unique');
    t.ok(flows.every((f) => f.udps_packets === f.bidirectional_packets), `the plugin saw every packet of all ${flows.length} flows (udps_packets)`);
  });

  t.test('capture --workers 2 without plugins: rows made in the workers, numbered here in order', async (t) => {
    for (const format of ['jsonl', 'csv'] as const) {
      const out = path.join(tmpdir(), `text.${format}`);
      const server = inNs(NS_A, [process.execPath, '-e', SERVER], 'ignore');
      const capture = inNs(NS_A, [process.execPath, BIN, 'capture', '-i', VA, '--workers', '2', '--stats', '-o', out]);
      let stderr = '';
      capture.stderr?.on('data', (d) => { stderr += d; });
      for (let i = 0; i < 100 && !/capturing on/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1500)); // the workers join the fanout group
      const client = inNs(NS_B, [process.execPath, '-e', CLIENT], 'ignore');
      t.equal(await exited(client), 0, `${format}: UDP and TCP traffic sent`);
      await new Promise((r) => setTimeout(r, 1000));
      capture.kill('SIGINT');
      t.equal(await exited(capture), 0, `${format}: exit 0`);
      server.kill();
      const text = fs.readFileSync(out, 'utf8').trim().split('\n');
      const header = format === 'csv' ? (text.shift() as string).split(',') : [];
      const flows = text.map((l) => format === 'jsonl' ? JSON.parse(l) as Record<string, unknown>
        : Object.fromEntries(l.split(',').map((v, i) => [header[i], /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v])));
      const summary = /(\d+) flows from/.exec(stderr);
      t.equal(flows.length, Number(summary?.[1]), `${format}: as many rows as the summary's flows (${flows.length})`);
      t.same(flows.map((f) => f.id), flows.map((_, i) => i), `${format}: ids 0 to ${flows.length - 1}, in order`);
      const sample = cli(['read', path.join(ROOT, 'samples', 'sample.pcap'), '--stats', `--${format}`]).stdout.split('\n')[0];
      const keys = format === 'jsonl' ? Object.keys(JSON.parse(sample) as object) : sample.split(',');
      t.same(Object.keys(flows[0] ?? {}), keys, `${format}: the columns of a read`);
      const between = flows.filter((f) => [f.src_ip, f.dst_ip].sort().join() === [IP_A, IP_B].sort().join());
      for (let i = 0; i < 8; i++) {
        const mine = between.filter((f) => f.protocol === 17 && f.src_port === 41000 + i && f.dst_port === 9000);
        t.same(mine.map((f) => [f.src2dst_packets, f.dst2src_packets]), [[i + 2, i + 2]], `${format}: UDP flow ${i} once, ${i + 2} packets each way`);
      }
    }
  });

  t.test('capture errors: no such interface, bad filter, interface down, no permission; --duration ends a quiet capture with exit 0', async (t) => {
    const none = cli(['capture', '-i', `nosuch${tag}`, '--csv']);
    t.equal(none.status, 1);
    t.match(none.stderr, /no such interface/);
    const bad = spawnSync('ip', ['netns', 'exec', NS_A, process.execPath, BIN, 'capture', '-i', VA, '--bpf', 'tcp port banana'], { encoding: 'utf8', env });
    t.equal(bad.status, 2, 'a bad filter is a usage error');
    t.match(bad.stderr, /"--bpf" is not a filter libpcap can compile/);
    ip('-n', NS_A, 'link', 'add', `dn${tag}`, 'type', 'veth', 'peer', 'name', `dp${tag}`); // left down
    const down = spawnSync('ip', ['netns', 'exec', NS_A, process.execPath, BIN, 'capture', '-i', `dn${tag}`, '--csv'], { encoding: 'utf8', env });
    t.equal(down.status, 1);
    t.equal(down.stderr, `flowseek: error: dn${tag}: the interface is down\n`);
    // root without any capability (an empty bounding set) stands for an unprivileged user
    const user = spawnSync('setpriv', ['--bounding-set', '-all', '--inh-caps', '-all', process.execPath, BIN, 'capture', '-i', 'lo', '--csv'],
      { encoding: 'utf8', env });
    t.equal(user.status, 1, 'without CAP_NET_RAW: exit 1');
    t.match(user.stderr, /permission denied: capturing needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN/);
    const quiet = spawnSync('ip', ['netns', 'exec', NS_A, process.execPath, BIN, 'capture', '-i', 'lo', '--duration', '1.5', '--workers', '2', '--csv'],
      { encoding: 'utf8', timeout: 20000, env });
    t.equal(quiet.status, 0, quiet.stderr);
    t.match(quiet.stderr, /duration reached/);
    t.match(quiet.stdout, /^id,expiration_id/, 'the CSV header is written even with no flow');
  });
}

const missing = vethPair({ ns: NS_A, dev: VA, addr: IP_A }, { ns: NS_B, dev: VB, addr: IP_B });
if (missing) {
  t.test('live capture', { skip: `live capture tests skipped: ${missing}` }, async () => undefined);
} else {
  t.teardown(() => deleteNamespaces(NS_A, NS_B));
  runTests();
}

