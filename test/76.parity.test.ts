/** Parity with NFStream where issue 21 found flowseek apart: transport accounting of other IP
 * protocols, nDPI union members read by protocol, plugins that end flows, the programmatic API. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { cli, flows, NO_ORACLE, ORACLE, ROOT } from './helpers/run';
import { FlowStreamer } from '../src/index';
import { parseMeterOptions } from '../src/options';

const PCAPS = path.join(ORACLE, 'pcaps');
const LABELS = path.join(ORACLE, '..', 'ndpi42', 'labels');
const pcap = (name: string) => path.join(PCAPS, name);
const dir = path.join(tmpdir(), 'parity');
fs.mkdirSync(dir, { recursive: true });
const write = (name: string, text: string) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };

/** NFStream's results for a capture: [id, packets, bytes] per flow. */
function oracle(name: string): number[][] {
  return fs.readFileSync(path.join(ORACLE, 'results', name), 'utf8').trim().split('\n').slice(1)
    .map((l) => l.split(',').slice(0, 3).map(Number));
}

t.test('accounting mode transport: 0 bytes for IP protocols other than TCP, UDP, ICMP, ICMPv6', { skip: NO_ORACLE }, async (t) => {
  // the captures where NFStream and flowseek differed (IGMP, protocol 0 after a hop-by-hop header, protocol 80)
  const names = ['ajp.pcap', 'anyconnect-vpn.pcap', 'capwap.pcap', 'iphone.pcap', 'skype.pcap', 'starcraft_battle.pcap',
    'tls_certificate_too_long.pcap', 'wechat.pcap'];
  let others = 0, checked = 0;
  for (const name of names) {
    const [raw, ip, tr, pl] = await Promise.all(['raw', 'ip', 'transport', 'payload'].map((m) => flows([pcap(name)], { accountingMode: m, dissections: '0' })));
    t.same(raw.map((f) => [f.id, f.bidirectional_packets, f.bidirectional_bytes]), oracle(name), `${name}: NFStream's flows`);
    t.equal(tr.length, raw.length, `${name}: the same flows in transport mode`);
    tr.forEach((f, i) => {
      t.equal(f.bidirectional_packets, raw[i].bidirectional_packets);
      const p = f.protocol as number, n = f.bidirectional_packets as number, b = f.bidirectional_bytes as number;
      if (![1, 6, 17, 58].includes(p)) {
        others++;
        t.same([b, f.src2dst_bytes, f.dst2src_bytes], [0, 0, 0], `${name} flow ${f.id} (protocol ${p}): no transport bytes`);
        return;
      }
      checked++;
      // NFStream's rule: the IP payload, that is the payload and the transport headers: UDP's 8 bytes, TCP's
      // at least 20, in 4-byte words
      const header = b - (pl[i].bidirectional_bytes as number);
      if (p === 6) t.ok(header >= 20 * n && header % 4 === 0, `${name} flow ${f.id}: TCP headers`);
      else if (p === 17) t.equal(header, 8 * n, `${name} flow ${f.id}: UDP headers`);
      else t.ok(b > 0 && b <= (ip[i].bidirectional_bytes as number), `${name} flow ${f.id}: ICMP, within the IP bytes`);
    });
  }
  t.equal(others, 38, 'the 38 flows of other protocols');
  t.ok(checked > 500, `TCP/UDP/ICMP flows checked (${checked})`);
});

/** Flows of a capture keyed as the nDPI reader's labels are (protocol and unordered endpoints). */
async function labelled(name: string): Promise<{ flow: Record<string, unknown>; label: string[] }[]> {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const f of await flows([pcap(name)])) byKey.set([f.protocol, ...[`${f.src_ip}|${f.src_port}`, `${f.dst_ip}|${f.dst_port}`].sort()].join('|'), f);
  const out = [];
  for (const line of fs.readFileSync(path.join(LABELS, `${name}.csv`), 'utf8').trim().split('\n').slice(1)) {
    const v = line.replace(/\r$/, '').split(',');
    const flow = byKey.get([v[0], ...[`${v[1]}|${v[2]}`, `${v[3]}|${v[4]}`].sort()].join('|'));
    if (flow) out.push({ flow, label: v });
  }
  return out;
}

t.test('nDPI union members are read for the protocol that writes them', { skip: NO_ORACLE }, async (t) => {
  const kerberos = await flows([pcap('kerberos.pcap')]);
  t.ok(kerberos.filter((f) => f.application_name === 'Kerberos').length >= 11, 'Kerberos flows');
  for (const f of kerberos) {
    t.same([f.client_fingerprint, f.server_fingerprint, f.user_agent], ['', '', ''], `kerberos.pcap flow ${f.id}: no fingerprint`);
  }
  // the reader's labels carry the server name, JA3 and JA3S: TLS, QUIC, DTLS, DNS, HTTP captures keep theirs
  const columns = [['requested_server_name', 6], ['client_fingerprint', 7], ['server_fingerprint', 8]] as const;
  for (const name of ['facebook.pcap', 'dns_doh.pcap', 'doq.pcapng', 'dtls.pcap', 'exe_download_as_png.pcap', 'dns_long_domainname.pcap']) {
    const seen = { requested_server_name: 0, client_fingerprint: 0, server_fingerprint: 0 };
    for (const { flow, label } of await labelled(name)) {
      for (const [col, at] of columns) {
        t.equal(flow[col], label[at], `${name} ${flow.application_name} ${col}`);
        if (label[at]) seen[col]++;
      }
    }
    t.ok(Object.values(seen).some((n) => n > 0), `${name}: values compared (${JSON.stringify(seen)})`);
  }
  const [ssh] = await flows([pcap('ssh.pcap')]);
  t.match(ssh, { application_name: 'SSH', client_fingerprint: /^[0-9A-F]{32}$/, server_fingerprint: /^[0-9A-F]{32}$/ }, 'SSH: HASSH client and server');
  const dhcp = (await flows([pcap('dhcp.pcap')])).filter((f) => f.application_name === 'DHCP');
  t.ok(dhcp.some((f) => f.client_fingerprint === '1,3,6,42'), 'DHCP: the parameter request list (option 55)');
  const [png] = await flows([pcap('exe_download_as_png.pcap')]);
  t.match(png, { user_agent: 'WinHTTP loader/1.0', content_type: 'image/png' }, 'HTTP: user agent and content type');
});

t.test('a plugin that ends flows, as NFStream documents it, without endsFlows: NFStream\'s FlowSlicer flows', { skip: NO_ORACLE }, async (t) => {
  const slicer = write('slicer.js', `module.exports = { name: 'slicer',
    onUpdate(packet, flow) { if (flow.bidirectional_packets >= 4) flow.expiration_id = -1; } };`);
  // the packets of google_ssl.pcap's one flow, as a plugin sees them when nothing ends it
  const probe = write('probe.js', `module.exports = { name: 'probe',
    onInit(p, f) { f.udps.pk = [[p.srcIp, p.time, p.rawSize]]; }, onUpdate(p, f) { f.udps.pk.push([p.srcIp, p.time, p.rawSize]); } };`);
  const [whole] = await flows([pcap('google_ssl.pcap')], { plugin: [probe] });
  t.same([whole.bidirectional_packets, whole.bidirectional_bytes], oracle('google_ssl.pcap')[0].slice(1), 'the whole flow is NFStream\'s');
  const packets = JSON.parse(whole.udps_pk as string) as [string, number, number][];
  // FlowSlicer(4): a flow of each 4 packets, the last the remainder; each begins with its first packet's source
  const want: Record<string, unknown>[] = [];
  for (let i = 0; i < packets.length; i += 4) {
    const group = packets.slice(i, i + 4);
    want.push({ id: i / 4, src_ip: group[0][0], bidirectional_first_seen_ms: group[0][1], bidirectional_last_seen_ms: group[group.length - 1][1],
      bidirectional_packets: group.length, bidirectional_bytes: group.reduce((n, p) => n + p[2], 0), expiration_id: group.length === 4 ? -1 : 0 });
  }
  t.equal(want.length, 7, 'NFStream\'s 7 flows');
  const got = await flows([pcap('google_ssl.pcap')], { plugin: [slicer] });
  t.same(got.map((f) => Object.fromEntries(Object.keys(want[0]).map((k) => [k, f[k]]))), want);
});

t.test('the first end in a fast run re-reads the files exactly: the same flows as a run declaring endsFlows', { skip: NO_ORACLE }, async (t) => {
  // flows of the first captures are yielded (idle timeout 1 s) before the plugin first ends one, in the last (google_ssl.pcap)
  const body = `onUpdate(p, f) { if ((f.src_ip === '216.58.212.100' || f.dst_ip === '216.58.212.100') && f.bidirectional_packets >= 4) f.expiration_id = -1; },
    onExpire(f) { this.expired = (this.expired || 0) + 1; f.udps.expired_before = this.expired - 1; }`;
  const fast = write('ends-late.js', `module.exports = { name: 'ends', ${body} };`);
  const declared = write('ends-declared.js', `module.exports = { name: 'ends', endsFlows: true, ${body} };`);
  // in time order (flowseek reads files so), google_ssl.pcap last
  const files = ['dnp3.pcap', 'bitcoin.pcap', 'tor.pcap', 'google_ssl.pcap'].map(pcap);
  const a = await flows(files, { plugin: [fast], idleTimeout: '1' });
  const b = await flows(files, { plugin: [declared], idleTimeout: '1' });
  t.ok(a.findIndex((f) => f.expiration_id === -1) > 20, 'flows came before the first end');
  t.equal(a.filter((f) => f.expiration_id === -1).length, 7, 'the 7 slices ended');
  t.same(a, b, 'every flow, column and id alike; onExpire ran once per flow');
});

t.test('a flow a plugin ends takes its export place at its packet: the dhcp plugin numbers flows as NFStream does', { skip: NO_ORACLE }, async (t) => {
  // NFStream's DHCP plugin: DISCOVER ends at packet 1 (id 0), REQUEST at packet 3 (id 1), the server's
  // flow (OFFER, ACK) at the end of the file (id 2); without the plugin, NFStream's two flows
  const got = await flows([pcap('dhcp.pcap')], { plugin: ['dhcp'] });
  t.same(got.map((f) => [f.id, f.src_ip, f.udps_dhcp_msg_type, f.bidirectional_packets, f.expiration_id]), [
    [0, '0.0.0.0', 'DISCOVER', 1, -1],
    [1, '0.0.0.0', 'REQUEST', 1, -1],
    [2, '192.168.0.1', '', 2, 0],
  ]);
  t.same(oracle('dhcp.pcap').map((r) => r[1]), [2, 2], 'the oracle without the plugin: two flows of 2 packets');
  // idle timeout 50 ms: the idle scan at the REQUEST (70 ms) ends the server's first flow after the
  // REQUEST's own end (NFStream: a hook's end right after its packet, the scan after that)
  const idle = await flows([pcap('dhcp.pcap')], { plugin: ['dhcp'], idleTimeout: '0.05' });
  t.same(idle.map((f) => [f.id, f.src_ip, f.udps_dhcp_msg_type, f.expiration_id]),
    [[0, '0.0.0.0', 'DISCOVER', -1], [1, '0.0.0.0', 'REQUEST', -1], [2, '192.168.0.1', '', 0], [3, '192.168.0.1', '', 0]]);
  // one open flow at most: the REQUEST evicts the server's flow before it begins, so the eviction comes first
  const evicted = await flows([pcap('dhcp.pcap')], { plugin: ['dhcp'], maxActiveFlows: '1' });
  t.same(evicted.map((f) => [f.id, f.src_ip, f.udps_dhcp_msg_type, f.expiration_id]),
    [[0, '0.0.0.0', 'DISCOVER', -1], [1, '192.168.0.1', '', 2], [2, '0.0.0.0', 'REQUEST', -1], [3, '192.168.0.1', '', 0]]);
});

t.test('the API: numbers where the command line has text, the command line\'s defaults, types without @types/node', { skip: NO_ORACLE }, async (t) => {
  const o = parseMeterOptions({ idleTimeout: 30, splt: 5, accountingMode: 2, stats: true });
  t.match(o, { idleTimeoutMs: 30000, splt: 5, accountingMode: 2, stats: true });
  t.throws(() => parseMeterOptions({ splt: 0 }), /"--splt" must be a whole number of packets from 1 to 255, got "0"/);
  t.throws(() => parseMeterOptions({ idleTimeout: NaN }), /"--idle-timeout" must be/);
  const cliFirst = JSON.parse(cli(['read', pcap('google_ssl.pcap'), '--format', 'jsonl']).stdout.split('\n')[0]);
  const apiFirst: Record<string, unknown> = {};
  for await (const f of new FlowStreamer({ files: [pcap('google_ssl.pcap')] })) Object.assign(apiFirst, f);
  t.same(Object.keys(apiFirst), Object.keys(cliFirst), 'new FlowStreamer({ files }): the CLI\'s columns');
  t.equal(apiFirst.application_name, cliFirst.application_name, 'and its labels');

  // a program in a folder whose node_modules holds only this package and TypeScript
  const app = path.join(dir, 'app');
  fs.rmSync(app, { recursive: true, force: true });
  fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'flowseek'));
  fs.symlinkSync(path.dirname(require.resolve('typescript/package.json')), path.join(app, 'node_modules', 'typescript'));
  fs.writeFileSync(path.join(app, 'main.ts'), `import { FlowStreamer, parseMeterOptions } from 'flowseek';
async function main(file: string): Promise<void> {
  const options = parseMeterOptions({ idleTimeout: 30, splt: 5 });
  for await (const flow of new FlowStreamer({ ...options, files: [file] })) console.log(flow.bidirectional_packets, flow.splt_ps);
  for await (const flow of new FlowStreamer({ files: [file] })) console.log(flow.application_name);
}
main(${JSON.stringify(pcap('google_ssl.pcap'))}).catch((e) => { console.log(e); });
`);
  const tsc = spawnSync(process.execPath, [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '--strict', '--target', 'es2022',
    '--module', 'commonjs', '--moduleResolution', 'node', 'main.ts'], { cwd: app, encoding: 'utf8' });
  t.equal(tsc.stdout + tsc.stderr, '', 'tsc --strict: no error');
  t.equal(tsc.status, 0);
  const run = spawnSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8' });
  t.equal(run.stdout, `28 [ 58, 60, 54, 180, 60 ]\n${cliFirst.application_name}\n`, 'and runs');
});
