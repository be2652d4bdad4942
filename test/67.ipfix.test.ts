/** --ipfix: every oracle capture sent to a real collector (Debian's nfcapd on loopback), read back
 * with nfdump, compared flow by flow with flowseek's own CSV of the same run; TCP framing checked
 * by a listener of the test's own; unreachable collectors and bad targets refused. */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { BIN, cli, NO_ORACLE, ORACLE } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');
// the two dhcp_*_endian captures are dated beyond the year 100,000: nfdump cannot print such times
const ALL = NO_ORACLE ? [] : fs.readdirSync(PCAPS).sort().filter((f) => !/^dhcp_.*_endian/.test(f)).map((f) => path.join(PCAPS, f));
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(r));
  return port;
}

/** nfcapd on loopback, ready when it says so. */
async function collector(port: number, dir: string): Promise<ChildProcess> {
  const p = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-B', String(8 << 20)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nfcapd did not start: ${said}`)), 10000);
    const on = (d: Buffer) => { said += d.toString(); if (said.includes('Startup')) { clearTimeout(timer); resolve(); } };
    p.stdout?.on('data', on);
    p.stderr?.on('data', on);
    p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`nfcapd exited ${code}: ${said}`)); });
  });
  return p;
}

/** One line per flow: addresses, ports, start and end (ms), packets and bytes each way. */
type Row = string;

function nfdumpRows(dir: string): Row[] {
  const r = spawnSync('nfdump', ['-R', dir, '-6', '-N', '-q', '-o', 'fmt:%ts|%te|%sa|%sp|%da|%dp|%ipkt|%ibyt|%opkt|%obyt'],
    { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`nfdump: ${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean).map((line) => {
    const [ts, te, sa, sp, da, dp, ...counts] = line.split('|').map((x) => x.trim());
    const ms = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);
    return [sa, parseInt(sp, 10), da, parseInt(dp, 10), ms(ts), ms(te), ...counts.map(Number)].join(' ');
  });
}

function csvRows(file: string): Row[] {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const col = Object.fromEntries(head.split(',').map((n, i) => [n, i]));
  const names = ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'bidirectional_first_seen_ms', 'bidirectional_last_seen_ms',
    'src2dst_packets', 'src2dst_bytes', 'dst2src_packets', 'dst2src_bytes'];
  // no column of these few holds a comma or a quote
  return lines.map((l) => { const v = l.split(','); return names.map((n) => v[col[n]]).join(' '); });
}

const sum = (rows: Row[], k: number) => rows.reduce((n, r) => n + Number(r.split(' ')[k]), 0);

t.test('every oracle flow reaches nfcapd with the packets and bytes of flowseek\'s CSV', { skip: NO_ORACLE || (!have('nfcapd') && 'nfcapd (Debian nfdump) not installed') }, async (t) => {
  const dir = path.join(tmpdir(), 'nfcapd');
  fs.mkdirSync(dir, { recursive: true });
  const port = await freeUdpPort();
  const nfcapd = await collector(port, dir);
  const csv = path.join(tmpdir(), 'ipfix-same-run.csv');
  const run = spawnSync(process.execPath, [BIN, 'read', ...ALL, '--ipfix', `127.0.0.1:${port}`, '-o', csv], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  t.match(run.stderr, /flows sent to udp:\/\/127\.0\.0\.1:\d+ in \d+ IPFIX messages/);
  await new Promise((r) => setTimeout(r, 300));
  nfcapd.kill('SIGINT');
  await new Promise((r) => nfcapd.once('exit', r));
  const theirs = nfdumpRows(dir).sort();
  const ours = csvRows(csv).sort();
  t.equal(theirs.length, ours.length, `${theirs.length} flows in nfdump, ${ours.length} in the CSV`);
  t.same(theirs, ours, 'the same flows: addresses, ports, start, end, packets and bytes each way');
  const packets = [sum(theirs, 6) + sum(theirs, 8), sum(ours, 6) + sum(ours, 8)];
  const bytes = [sum(theirs, 7) + sum(theirs, 9), sum(ours, 7) + sum(ours, 9)];
  t.equal(packets[0], packets[1], `packets: nfdump ${packets[0]}, flowseek CSV ${packets[1]}`);
  t.equal(bytes[0], bytes[1], `bytes: nfdump ${bytes[0]}, flowseek CSV ${bytes[1]}`);
});

/** IPFIX messages from a TCP stream: each record's element lengths from its template. */
function parseStream(data: Buffer): { messages: number; records: number; sequenceOk: boolean; templates: number[] } {
  const tmpl = new Map<number, number[]>();
  let at = 0, messages = 0, records = 0, sequenceOk = true;
  while (at < data.length) {
    if (data.readUInt16BE(at) !== 10) throw new Error(`not IPFIX at ${at}`);
    const len = data.readUInt16BE(at + 2);
    if (data.readUInt32BE(at + 8) !== records) sequenceOk = false;
    let s = at + 16;
    while (s < at + len) {
      const id = data.readUInt16BE(s), slen = data.readUInt16BE(s + 2);
      let p = s + 4;
      if (id === 2) {
        while (p < s + slen) {
          const tid = data.readUInt16BE(p), n = data.readUInt16BE(p + 2);
          const lens: number[] = [];
          p += 4;
          for (let i = 0; i < n; i++) { const e = data.readUInt16BE(p); lens.push(data.readUInt16BE(p + 2)); p += e & 0x8000 ? 8 : 4; }
          tmpl.set(tid, lens);
        }
      } else {
        const lens = tmpl.get(id);
        if (!lens) throw new Error(`data set ${id} before its template`);
        while (p < s + slen) {
          for (const l of lens) {
            if (l !== 0xffff) { p += l; continue; }
            const short = data[p];
            p += short < 255 ? 1 + short : 3 + data.readUInt16BE(p + 1);
          }
          records++;
        }
      }
      s += slen;
    }
    at += len;
    messages++;
  }
  return { messages, records, sequenceOk, templates: [...tmpl.keys()] };
}

t.test('tcp://: one stream of whole messages, templates first, sequence numbers counting records', { skip: NO_ORACLE }, async (t) => {
  const chunks: Buffer[] = [];
  const server = net.createServer((s) => s.on('data', (d) => chunks.push(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const files = ['ftp.pcap', 'http_ipv6.pcap', 'dhcp.pcap', 'quic_interop_V.pcapng'].map((f) => path.join(PCAPS, f));
  // not spawnSync: this process's event loop is the collector
  const child = spawn(process.execPath, [BIN, 'read', ...files, '--ipfix', `tcp://127.0.0.1:${port}`]);
  const r = { stdout: '', stderr: '', status: 0 as number | null };
  child.stdout.on('data', (d) => { r.stdout += d; });
  child.stderr.on('data', (d) => { r.stderr += d; });
  r.status = await new Promise<number | null>((res) => child.once('exit', res));
  await new Promise((res) => setTimeout(res, 200));
  server.close();
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '', 'with --ipfix and no -o, nothing on standard output');
  const flows = Number(/(\d+) flows sent/.exec(r.stderr)?.[1]);
  const got = parseStream(Buffer.concat(chunks));
  t.equal(got.records, flows, `${flows} records in ${got.messages} messages`);
  t.ok(got.sequenceOk, 'each header counts the records sent before it');
  t.same(got.templates.sort(), [256, 257], 'an IPv4 and an IPv6 template');
});

t.test('collectors that are not there, and bad targets', { skip: NO_ORACLE }, async (t) => {
  const file = path.join(PCAPS, 'ftp.pcap');
  const closed = await freeUdpPort();
  const udp = cli(['read', file, '--ipfix', `127.0.0.1:${closed}`]);
  t.equal(udp.status, 1);
  t.match(udp.stderr, /IPFIX collector udp:\/\/127\.0\.0\.1:\d+: connection refused \(is the collector running on that port\?\)/);
  const tcp = cli(['read', file, '--ipfix', `tcp://127.0.0.1:${closed}`]);
  t.equal(tcp.status, 1);
  t.match(tcp.stderr, /IPFIX collector tcp:\/\/127\.0\.0\.1:\d+: connection refused/);
  for (const bad of ['localhost', 'sctp://h:1', 'h:99999', '::1:4739']) {
    const r = cli(['read', file, '--ipfix', bad]);
    t.equal(r.status, 2, `${bad} refused`);
    t.match(r.stderr, /"--ipfix" must be HOST:PORT/);
  }
  const anon = cli(['read', file, '--ipfix', '127.0.0.1:4739', '--anonymize', 'src_ip']);
  t.equal(anon.status, 2);
  t.match(anon.stderr, /cannot go with "--ipfix"/);
});
