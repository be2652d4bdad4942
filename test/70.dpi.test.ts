/** Application detection with Debian's nDPI 4.2: labels, server names, fingerprints, give-up, off. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { DLT, ipv4, udp, writePcap } from './helpers/packets';
import { flows, ORACLE, ROOT } from './helpers/run';

const sample = path.join(ROOT, 'samples', 'sample.pcap');

t.test('facebook.pcap first flow: name, category, SNI, JA3 client and server', async (t) => {
  const [f] = await flows([path.join(ORACLE, 'pcaps', 'facebook.pcap')]);
  t.match(f, { application_name: 'TLS.Facebook', application_category_name: 'SocialNetwork', application_is_guessed: 0,
    requested_server_name: 'facebook.com', client_fingerprint: 'bfcc1a3891601edb4f137ab7ab25b840',
    server_fingerprint: '2d1eb5817ece335c24904f516ad5da12' });
});

t.test('HTTP flow: host, user agent and content type; DNS flow: its query name', async (t) => {
  const got = await flows([sample]);
  const http = got.find((f) => f.dst_port === 80)!;
  t.match(http, { application_name: 'HTTP', requested_server_name: 'www.example.org', user_agent: 'flowseek-sample/1.0' });
  const [png] = await flows([path.join(ORACLE, 'pcaps', 'exe_download_as_png.pcap')]);
  t.match(png, { dst_port: 80, user_agent: 'WinHTTP loader/1.0', content_type: 'image/png' }, 'a response content type (oracle capture)');
  const dns = got.find((f) => f.dst_port === 53)!;
  t.match(dns, { application_name: 'DNS', requested_server_name: 'www.example.org' });
  const tls = got.find((f) => f.dst_port === 443)!;
  t.match(tls, { requested_server_name: 'tls.example.org' });
  t.match(tls.application_name, /^TLS/);
});

t.test('detection gives up and guesses by port when the payload says nothing', async (t) => {
  const recs = Array.from({ length: 4 }, (_, i) => ({ t: 1 + i, frame: ipv4('10.0.0.1', '10.0.0.2', 17, udp(40000, 123, Buffer.alloc(3, 0xee))) }));
  const [f] = await flows([writePcap('guess.pcap', DLT.RAW, recs)], { dissections: '2' });
  t.equal(f.application_is_guessed, 1, 'guessed');
  t.equal(f.application_name, 'NTP', 'guessed from the port');
});

t.test('--dissections 0 turns detection off and drops the columns', async (t) => {
  const [f] = await flows([sample], { dissections: '0' });
  t.notOk('application_name' in f);
  t.notOk('client_fingerprint' in f);
});

t.test('agreement with Debian nDPI 4.2 reader labels on the oracle captures', async (t) => {
  const labels = path.join(ORACLE, '..', 'ndpi42', 'labels');
  let matched = 0, same = 0;
  for (const name of fs.readdirSync(path.join(ORACLE, 'pcaps')).sort()) {
    const file = path.join(labels, `${name}.csv`);
    if (!fs.existsSync(file)) continue;
    const byKey = new Map<string, Record<string, unknown>>();
    for (const f of await flows([path.join(ORACLE, 'pcaps', name)])) {
      byKey.set([f.protocol, ...[`${f.src_ip}|${f.src_port}`, `${f.dst_ip}|${f.dst_port}`].sort()].join('|'), f);
    }
    for (const line of fs.readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const [proto, sip, sp, dip, dp, app] = line.split(',');
      const f = byKey.get([proto, ...[`${sip}|${sp}`, `${dip}|${dp}`].sort()].join('|'));
      if (!f) continue;
      matched++;
      if (f.application_name === app) same++;
    }
  }
  t.comment(`nDPI 4.2 labels: ${same}/${matched} flows agree (${((100 * same) / matched).toFixed(1)}%)`);
  t.ok(matched > 2000, `flows matched by endpoints (${matched})`);
  t.ok(same / matched >= 0.99, 'at least 99% agree');
});
