/** Application detection with Debian's nDPI 4.2: labels, server names, fingerprints, give-up, off. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { DLT, ipv4, udp, writePcap } from './helpers/packets';
import { flows, NO_ORACLE, ORACLE, ROOT } from './helpers/run';
import { clientHello, list16, quicInitial } from './helpers/tls';

const sample = path.join(ROOT, 'samples', 'sample.pcap');

t.test('facebook.pcap first flow: name, category, SNI, JA3 client and server', { skip: NO_ORACLE }, async (t) => {
  const [f] = await flows([path.join(ORACLE, 'pcaps', 'facebook.pcap')]);
  t.match(f, { application_name: 'TLS.Facebook', application_category_name: 'SocialNetwork', application_is_guessed: 0,
    requested_server_name: 'facebook.com', client_fingerprint: 'bfcc1a3891601edb4f137ab7ab25b840',
    server_fingerprint: '2d1eb5817ece335c24904f516ad5da12' });
});

t.test('HTTP flow: host, user agent and content type; DNS flow: its query name', { skip: NO_ORACLE }, async (t) => {
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

t.test('agreement with Debian nDPI 4.2 reader labels on the oracle captures', { skip: NO_ORACLE }, async (t) => {
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

const sha12 = (s: string) => require('node:crypto').createHash('sha256').update(s).digest('hex').slice(0, 12);

async function ja4Of(name: string, hello: Buffer): Promise<string> {
  const { tcp, TCP_ACK, TCP_PSH } = await import('./helpers/packets');
  const frame = ipv4('10.9.0.1', '10.9.0.2', 6, tcp(50000, 443, TCP_PSH | TCP_ACK, hello));
  const [f] = await flows([writePcap(name, DLT.RAW, [{ t: 1, frame }])]);
  return f.client_ja4 as string;
}

t.test('JA4 of ClientHellos built here, checked against the specification by hand', async (t) => {
  const sni = Buffer.concat([Buffer.from([0, 14, 0, 0, 11]), Buffer.from('example.com')]);
  const alpn = Buffer.from([0, 12, 2, ...Buffer.from('h2'), 8, ...Buffer.from('http/1.1')]);
  const hello = clientHello(0x0303, [0x0a0a, 0x1301, 0x1302, 0xc02b, 0x002f], [
    [0x1a1a, Buffer.alloc(0)], [0x0000, sni], [0x0010, alpn], list16(0x000a, [0x001d, 0x0017]),
    list16(0x000d, [0x0403, 0x0804, 0x0401]), list16(0x002b, [0x2a2a, 0x0304, 0x0303], 1), [0x000b, Buffer.from([1, 0])],
  ]);
  // t: TCP; 13: highest supported_versions entry (GREASE 2a2a skipped); d: SNI present;
  // 04 ciphers (GREASE 0a0a skipped); 06 extensions (GREASE 1a1a skipped; SNI and ALPN counted);
  // h2: first and last character of the first ALPN value.
  // b: the ciphers sorted; c: the extensions sorted without SNI and ALPN, then the signature
  // algorithms in the order sent.
  t.equal(await ja4Of('ja4-a.pcap', hello),
    `t13d0406h2_${sha12('002f,1301,1302,c02b')}_${sha12('000a,000b,000d,002b_0403,0804,0401')}`);

  const plain = clientHello(0x0303, [0xc02f, 0x009c], [[0x000b, Buffer.from([1, 0])]]);
  // no supported_versions: the hello's own version (12); no SNI: i; no ALPN: 00; no signature
  // algorithms: the extension list alone is hashed.
  t.equal(await ja4Of('ja4-b.pcap', plain), `t12i020100_${sha12('009c,c02f')}_${sha12('000b')}`);

  const odd = clientHello(0x0303, [0x1301], [[0x0010, Buffer.from([0, 3, 2, 0xab, 0xcd])]]);
  // ALPN value not alphanumeric: first hex digit of its first byte, last of its last byte ("ad");
  // only SNI/ALPN extensions: the extension hash is twelve zeros.
  t.equal(await ja4Of('ja4-c.pcap', odd), `t12i0101ad_${sha12('1301')}_000000000000`);

  const cut = hello.subarray(0, hello.length - 10);
  t.equal(await ja4Of('ja4-d.pcap', cut), '', 'a ClientHello cut short gives no JA4');
});

t.test('JA4 of a QUIC Initial: decrypted in the meter', { skip: NO_ORACLE }, async (t) => {
  const sni = Buffer.concat([Buffer.from([0, 14, 0, 0, 11]), Buffer.from('example.com')]);
  const alpn = Buffer.from([0, 3, 2, ...Buffer.from('h3')]);
  const record = clientHello(0x0303, [0x1301, 0x1302], [[0x0000, sni], [0x0010, alpn], list16(0x000d, [0x0804, 0x0403]),
    list16(0x002b, [0x0304], 1), list16(0x000a, [0x001d])]);
  const packet = quicInitial(record.subarray(5), Buffer.from('8394c8f03e515708', 'hex'));
  const frame = ipv4('10.9.0.1', '10.9.0.2', 17, udp(51000, 443, packet));
  const [f] = await flows([writePcap('quic-initial.pcap', DLT.RAW, [{ t: 1, frame }])]);
  // q: QUIC; 13 from supported_versions; d: SNI; 02 ciphers; 05 extensions; h3.
  t.equal(f.client_ja4, `q13d0205h3_${sha12('1301,1302')}_${sha12('000a,000d,002b_0804,0403')}`);

  // An oracle capture (QUIC v1): the lists below are what tshark's own decryption of that ClientHello shows
  // (ciphers 1301,1302,1303; extensions 51,16,43,13,10,57,45; signature algorithms 0804,0403,0401,0201;
  // supported_versions 0304,7f1c,7f1b,7f1a, so the highest value is a draft code: version "00").
  const [q] = await flows([path.join(ORACLE, 'pcaps', 'quic-33.pcapng')]);
  t.equal(q.client_ja4, `q00i0307h3_${sha12('1301,1302,1303')}_${sha12('000a,000d,002b,002d,0033,0039_0804,0403,0401,0201')}`);
});
