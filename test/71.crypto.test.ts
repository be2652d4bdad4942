/** Library crypto (QUIC Initial opened only when its AEAD tag verifies) and the random flow-hash
 * seed (output the same whatever the seed). */
import t from 'tap';
import { DLT, ipv4, ipv6, tcp, TCP_ACK, TCP_SYN, udp, writePcap } from './helpers/packets';
import { cli, flows } from './helpers/run';
import { clientHello, list16, quicInitial, quicInitialKeys } from './helpers/tls';

const sha12 = (s: string) => require('node:crypto').createHash('sha256').update(s).digest('hex').slice(0, 12);
const DCID = Buffer.from('8394c8f03e515708', 'hex');

t.test('the test packets are protected with RFC 9001 Appendix A.1 keys', async (t) => {
  const k = quicInitialKeys(DCID);
  t.equal(k.secret.toString('hex'), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
  t.equal(k.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
  t.equal(k.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
  t.equal(k.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
});

t.test('a QUIC Initial whose tag verifies gives its server name and JA4; one altered gives neither', async (t) => {
  const sni = Buffer.concat([Buffer.from([0, 14, 0, 0, 11]), Buffer.from('example.com')]);
  const alpn = Buffer.from([0, 3, 2, ...Buffer.from('h3')]);
  const params = Buffer.from([0x01, 0x02, 0x40, 0x64]); // QUIC transport parameters: max_idle_timeout 100
  const record = clientHello(0x0303, [0x1301, 0x1302], [[0x0000, sni], [0x0010, alpn], list16(0x000d, [0x0804, 0x0403]),
    list16(0x002b, [0x0304], 1), list16(0x000a, [0x001d]), [0x0039, params]]);
  // packet number 2 in four bytes, as in RFC 9001 A.2: the nonce and the header both carry it
  const genuine = quicInitial(record.subarray(5), DCID, 2, 4);
  const read = async (name: string, packet: Buffer) =>
    (await flows([writePcap(name, DLT.RAW, [{ t: 1, frame: ipv4('10.9.0.1', '10.9.0.2', 17, udp(51000, 443, packet)) }])]))[0];

  const good = await read('quic-good.pcap', genuine);
  t.equal(good.requested_server_name, 'example.com', 'server name');
  t.equal(good.client_ja4, `q13d0206h3_${sha12('1301,1302')}_${sha12('000a,000d,002b,0039_0804,0403')}`, 'JA4');

  const tag = Buffer.from(genuine);
  tag[tag.length - 1] ^= 0x01;
  const badTag = await read('quic-bad-tag.pcap', tag);
  t.equal(badTag.client_ja4, '', 'tag altered: no JA4');
  t.equal(badTag.requested_server_name, '', 'tag altered: no server name');

  // a byte of PADDING altered: the ClientHello itself still decrypts as before, only the tag tells
  const pad = Buffer.from(genuine);
  pad[pad.length - 100] ^= 0x80;
  const badPad = await read('quic-bad-padding.pcap', pad);
  t.equal(badPad.client_ja4, '', 'padding altered: no JA4');
  t.equal(badPad.requested_server_name, '', 'padding altered: no server name');

  // keys from another connection id: garbage after decryption, refused
  const other = Buffer.from(genuine);
  other[6] ^= 0xff;
  t.equal((await read('quic-other-dcid.pcap', other)).client_ja4, '', 'another connection id: no JA4');
});

t.test('two runs give the same bytes: no output depends on the random flow-hash seed', async (t) => {
  // 3000 flows over IPv4 and IPv6, TCP and UDP, some ending idle while others start, so expiry
  // and export order are exercised; flows in several hash-table sizes (the table grows)
  const recs = [];
  for (let i = 0; i < 3000; i++) {
    const time = 1 + i * 0.05;
    const a = `10.${(i >> 8) & 255}.${i & 255}.1`, b = '192.0.2.7';
    const a6 = `2001:db8::${(i & 0xffff).toString(16)}`, b6 = '2001:db8:ffff::1';
    const frame = i % 3 === 0 ? ipv6(a6, b6, 17, udp(1024 + (i % 5000), 53))
      : i % 3 === 1 ? ipv4(a, b, 6, tcp(40000 + (i % 20000), 443, TCP_SYN))
      : ipv4(b, a, 17, udp(5353, 1024 + i));
    recs.push({ t: time, frame });
    if (i % 7 === 0) recs.push({ t: time + 0.01, frame: ipv4(b, a, 6, tcp(443, 40000 + (i % 20000), TCP_SYN | TCP_ACK)) });
  }
  const file = writePcap('seed.pcap', DLT.RAW, recs);
  const run = (...extra: string[]) => {
    const r = cli(['read', file, '--jsonl', '--idle-timeout', '20', '--community-id', ...extra]);
    t.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const one = run(), two = run();
  t.ok(one.split('\n').length > 3000, 'every flow written');
  t.ok(one === two, 'one meter: identical output');
  // lanes: each lane's flows are numbered as they arrive, which thread timing decides (so it was
  // before the seed too); the rows themselves must be the same, and the same as one meter's
  const rows = (out: string) => out.trim().split('\n').map((l) => l.replace(/^\{"id":\d+,/, '{')).sort().join('\n');
  const lanes = run('--workers', '2');
  t.ok(rows(lanes) === rows(run('--workers', '2')), 'two lanes: the same rows');
  t.ok(rows(lanes) === rows(one), 'two lanes: the same rows as one meter');
});
