/**
 * Writes samples/sample.pcap: a small, deterministic Ethernet capture that this project builds
 * itself — DNS, an HTTP exchange, a TLS ClientHello with SNI, ICMP echo, IPv6 UDP and a VLAN-tagged
 * flow — so the README's first command has something real to read. Run: npm run sample.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { be16, ether, icmpEcho, ipv4, ipv6, pcap, Record, tcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, u8, udp, vlanTag } from '../test/helpers/packets';

const CLIENT = '192.168.50.10', RESOLVER = '192.168.50.1', WEB = '198.51.100.80', TLS = '203.0.113.44';
const out: Record[] = [];
let t = 1795996800; // 2026-11-30 00:00:00 UTC
const at = (dt: number, frame: Buffer) => { t += dt; out.push({ t: Number(t.toFixed(6)), frame: ether(0x0800, frame) }); };

function dnsQuery(id: number, name: string, response: boolean): Buffer {
  const qname = Buffer.concat([...name.split('.').map((l) => u8([l.length], Buffer.from(l))), Buffer.from([0])]);
  const header = [...be16(id), response ? 0x81 : 0x01, response ? 0x80 : 0x00, 0, 1, 0, response ? 1 : 0, 0, 0, 0, 0];
  const answer = response ? [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 198, 51, 100, 80] : [];
  return u8(header, qname, [0, 1, 0, 1], answer);
}

/** A TCP connection with consistent sequence numbers: handshake, one request, one response, close. */
function tcpExchange(src: string, dst: string, sport: number, dport: number, request: Buffer, response: Buffer) {
  let c = 1000, s = 5000; // next sequence number of client and server
  const empty = Buffer.alloc(0);
  at(0.010, ipv4(src, dst, 6, tcp(sport, dport, TCP_SYN, empty, c++, 0)));
  at(0.021, ipv4(dst, src, 6, tcp(dport, sport, TCP_SYN | TCP_ACK, empty, s++, c)));
  at(0.000, ipv4(src, dst, 6, tcp(sport, dport, TCP_ACK, empty, c, s)));
  at(0.001, ipv4(src, dst, 6, tcp(sport, dport, TCP_PSH | TCP_ACK, request, c, s)));
  c += request.length;
  at(0.034, ipv4(dst, src, 6, tcp(dport, sport, TCP_PSH | TCP_ACK, response, s, c)));
  s += response.length;
  at(0.000, ipv4(src, dst, 6, tcp(sport, dport, TCP_ACK, empty, c, s)));
  at(0.120, ipv4(src, dst, 6, tcp(sport, dport, TCP_FIN | TCP_ACK, empty, c++, s)));
  at(0.020, ipv4(dst, src, 6, tcp(dport, sport, TCP_FIN | TCP_ACK, empty, s++, c)));
  at(0.000, ipv4(src, dst, 6, tcp(sport, dport, TCP_ACK, empty, c, s)));
}

function clientHello(sni: string): Buffer {
  const name = Buffer.from(sni);
  const sniExt = u8([0, 0], be16(name.length + 5), be16(name.length + 3), [0], be16(name.length), name);
  const body = u8([3, 3], Buffer.alloc(32, 0x5a), [0], [0, 4, 0x13, 0x01, 0xc0, 0x2f], [1, 0], be16(sniExt.length), sniExt);
  const hs = u8([1], [0, ...be16(body.length)], body);
  return u8([0x16, 3, 1], be16(hs.length), hs);
}

at(0, ipv4(CLIENT, RESOLVER, 17, udp(53111, 53, dnsQuery(0x1a2b, 'www.example.org', false))));
at(0.018, ipv4(RESOLVER, CLIENT, 17, udp(53, 53111, dnsQuery(0x1a2b, 'www.example.org', true))));
tcpExchange(CLIENT, WEB, 40112, 80,
  Buffer.from('GET / HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: flowseek-sample/1.0\r\nAccept: */*\r\n\r\n'),
  Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 46\r\n\r\n<html><body>flowseek sample page</body></html>'));
tcpExchange(CLIENT, TLS, 40113, 443, clientHello('tls.example.org'), u8([0x16, 3, 3, 0, 4, 2, 0, 0, 0]));
for (let i = 0; i < 3; i++) {
  at(0.5, ipv4(CLIENT, RESOLVER, 1, icmpEcho(Buffer.alloc(32, i))));
  at(0.002, ipv4(RESOLVER, CLIENT, 1, u8([0, 0, 0, 0, 0, 1, 0, 1], Buffer.alloc(32, i))));
}
t += 0.05;
out.push({ t, frame: ether(0x86dd, ipv6('2001:db8::10', '2001:db8::123', 17, udp(50123, 123, Buffer.alloc(48, 0x23)))) });
t += 0.03;
out.push({ t, frame: ether(0x86dd, ipv6('2001:db8::123', '2001:db8::10', 17, udp(123, 50123, Buffer.alloc(48, 0x24)))) });
t += 0.1;
out.push({ t, frame: ether(0x8100, u8(vlanTag(20, 0x0800), ipv4('10.20.0.5', '10.20.0.9', 6, tcp(51000, 22, TCP_SYN)))) });
t += 0.001;
out.push({ t, frame: ether(0x8100, u8(vlanTag(20, 0x0800), ipv4('10.20.0.9', '10.20.0.5', 6, tcp(22, 51000, TCP_SYN | TCP_ACK)))) });

const file = path.resolve(__dirname, '..', '..', 'samples', 'sample.pcap');
fs.writeFileSync(file, pcap(1, out));
console.log(`wrote ${file}: ${out.length} packets`);
