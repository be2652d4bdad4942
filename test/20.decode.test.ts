/** Each link type and encapsulation, built byte by byte: the flow it yields, or why it is ignored. */
import t from 'tap';
import { FlowStreamer, parseMeterOptions } from '../src/index';
import {
  be16, DLT, ether, ext6, frag6, icmpEcho, ipv4, ipv6, MAC_A, MAC_B, tcp, TCP_SYN, u8, udp, vlanTag, writePcap,
} from './helpers/packets';
import { flows } from './helpers/run';

const TCP4 = ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1234, 80, TCP_SYN));

async function one(name: string, linktype: number, frame: Buffer, raw = {}) {
  return flows([writePcap(name, linktype, [{ t: 1, frame }])], raw);
}

async function ignoredBy(name: string, linktype: number, frame: Buffer): Promise<Record<string, number>> {
  const s = new FlowStreamer({ ...parseMeterOptions({}), files: [writePcap(name, linktype, [{ t: 1, frame }])] });
  for await (const _ of s.batches()) { /* drain */ }
  return s.stats()!.ignoredBy;
}

const expectTcp = { src_ip: '10.0.0.1', dst_ip: '10.0.0.2', src_port: 1234, dst_port: 80, protocol: 6, ip_version: 4 };

t.test('link types', async (t) => {
  const cases: [string, number, Buffer, object?][] = [
    ['ethernet', DLT.EN10MB, ether(0x0800, TCP4), { src_mac: '02:00:00:00:00:0a', dst_mac: '02:00:00:00:00:0b', src_oui: '02:00:00' }],
    ['802.3 llc snap', DLT.EN10MB, u8(MAC_B, MAC_A, be16(8 + TCP4.length), [0xaa, 0xaa, 3, 0, 0, 0, 8, 0], TCP4)],
    ['raw ip (101)', DLT.RAW, TCP4, { src_mac: '00:00:00:00:00:00' }],
    ['ipv4 (228)', DLT.IPV4, TCP4],
    ['bsd null, host order', DLT.NULL, u8([2, 0, 0, 0], TCP4)],
    ['bsd loop, network order', DLT.LOOP, u8([0, 0, 0, 2], TCP4)],
    ['linux cooked v1', DLT.LINUX_SLL, u8([0, 0, 0, 1, 0, 6, ...MAC_A, 0, 0, 8, 0], TCP4)],
    ['linux cooked v2', DLT.LINUX_SLL2, u8([8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, ...MAC_A, 0, 0], TCP4)],
    ['ppp with address and control', DLT.PPP, u8([0xff, 0x03, 0x00, 0x21], TCP4)],
    ['ppp without', DLT.PPP, u8([0x00, 0x21], TCP4)],
    ['cisco hdlc', DLT.C_HDLC, u8([0x0f, 0x00, 0x08, 0x00], TCP4)],
    ['802.1Q', DLT.EN10MB, ether(0x8100, u8(vlanTag(42, 0x0800), TCP4)), { vlan_id: 42 }],
    ['QinQ 802.1ad: innermost id', DLT.EN10MB, ether(0x88a8, u8(vlanTag(100, 0x8100), vlanTag(7, 0x0800), TCP4)), { vlan_id: 7 }],
    ['QinQ 0x9100', DLT.EN10MB, ether(0x9100, u8(vlanTag(5, 0x0800), TCP4)), { vlan_id: 5 }],
    ['MPLS two labels', DLT.EN10MB, ether(0x8847, u8([0, 0x01, 0x00, 64, 0, 0x02, 0x01, 64], TCP4))],
    ['PPPoE session', DLT.EN10MB, ether(0x8864, u8([0x11, 0, 0, 1, ...be16(TCP4.length + 2), 0x00, 0x21], TCP4))],
    ['radiotap + 802.11 data', DLT.RADIOTAP, u8([0, 0, 8, 0, 0, 0, 0, 0], [0x08, 0x01, 0, 0], MAC_B, MAC_A, [9, 9, 9, 9, 9, 9], [0, 0],
      [0xaa, 0xaa, 3, 0, 0, 0, 8, 0], TCP4), { src_mac: '02:00:00:00:00:0a', dst_mac: '09:09:09:09:09:09' }],
  ];
  for (const [name, lt, frame, extra] of cases) {
    const got = await one(`${name.replace(/\W+/g, '_')}.pcap`, lt, frame);
    t.equal(got.length, 1, `${name}: one flow`);
    t.match(got[0], { ...expectTcp, ...(extra ?? {}) }, name);
  }
});

t.test('IPv6, extension headers, IP-in-IP', async (t) => {
  const l4 = udp(5353, 53, Buffer.from('hello'));
  let [f] = await one('v6.pcap', DLT.RAW, ipv6('2001:db8::1', '2001:db8::2', 17, l4));
  t.match(f, { src_ip: '2001:db8::1', dst_ip: '2001:db8::2', ip_version: 6, protocol: 17, src_port: 5353 });
  [f] = await one('v6ext.pcap', DLT.RAW, ipv6('2001:db8::1', '2001:db8::2', 0, ext6(60, ext6(17, l4))));
  t.match(f, { protocol: 17, dst_port: 53 }, 'hop-by-hop then destination options are skipped');
  [f] = await one('v6first.pcap', DLT.RAW, ipv6('2001:db8::1', '2001:db8::2', 44, frag6(17, 0, true, l4)));
  t.match(f, { protocol: 17, dst_port: 53 }, 'a first IPv6 fragment counts');
  t.equal((await ignoredBy('v6frag.pcap', DLT.RAW, ipv6('2001:db8::1', '2001:db8::2', 44, frag6(17, 8, false, l4)))).fragment, 1,
    'a non-first IPv6 fragment is ignored');
  t.equal((await ignoredBy('v6none.pcap', DLT.RAW, ipv6('2001:db8::1', '2001:db8::2', 59, Buffer.alloc(20)))).ipv6_extension, 1,
    'next header 59 drops the packet');
  [f] = await one('4in4.pcap', DLT.RAW, ipv4('192.0.2.1', '192.0.2.2', 4, TCP4));
  t.match(f, { ...expectTcp, tunnel_id: 0 }, 'IP-in-IP: the inner header, tunnel_id 0');
  [f] = await one('6in4.pcap', DLT.RAW, ipv4('192.0.2.1', '192.0.2.2', 41, ipv6('2001:db8::1', '2001:db8::2', 17, l4)));
  t.match(f, { ip_version: 6, src_ip: '2001:db8::1' }, 'IPv6-in-IPv4 unwrapped');
});

t.test('IPv4 fragments, short headers, transport variants', async (t) => {
  const first = ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, Buffer.alloc(100)), { moreFragments: true });
  const later = ipv4('10.0.0.1', '10.0.0.2', 17, Buffer.alloc(100), { fragOffset: 14 });
  const got = await flows([writePcap('frag.pcap', DLT.RAW, [{ t: 1, frame: first }, { t: 1.1, frame: later }])]);
  t.equal(got.length, 1);
  t.equal(got[0].bidirectional_packets, 1, 'only the first fragment counts');
  t.equal((await ignoredBy('short.pcap', DLT.EN10MB, ether(0x0800, Buffer.alloc(10)))).short_frame, 1, 'a 24-byte frame is ignored');
  t.equal((await ignoredBy('badlen.pcap', DLT.RAW, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 2), { totalLength: 10 }))).ipv4_header, 1,
    'total length below the header is ignored');
  t.equal((await ignoredBy('arp.pcap', DLT.EN10MB, ether(0x0806, Buffer.alloc(28)))).not_ip, 1, 'ARP is not IP');
  let [f] = await one('icmp.pcap', DLT.RAW, ipv4('10.0.0.1', '10.0.0.2', 1, icmpEcho()));
  t.match(f, { protocol: 1, src_port: 0, dst_port: 0 }, 'ICMP has ports 0');
  [f] = await one('sctp.pcap', DLT.RAW, ipv4('10.0.0.1', '10.0.0.2', 132, Buffer.alloc(12, 1)));
  t.match(f, { protocol: 132, src_port: 0, dst_port: 0 }, 'other protocols have ports 0');
  [f] = await one('shorttcp.pcap', DLT.RAW, ipv4('10.0.0.1', '10.0.0.2', 6, Buffer.alloc(12, 1)));
  t.match(f, { protocol: 6, src_port: 0, dst_port: 0 }, 'TCP shorter than 20 bytes has ports 0');
  const linktype = await ignoredBy('ppi.pcap', DLT.PPI, TCP4);
  t.equal(linktype.unsupported_linktype, 1, 'an unknown link type is counted, not decoded');
});

t.test('tunnels and their tunnel_id', async (t) => {
  const inner = ipv4('10.1.0.1', '10.1.0.2', 6, tcp(4000, 443));
  const outer = (sport: number, dport: number, payload: Buffer) =>
    ether(0x0800, ipv4('192.0.2.1', '192.0.2.2', 17, udp(sport, dport, payload)));
  const gtp = u8([0x30, 0xff, ...be16(inner.length), 0, 0, 0, 1], inner);
  const vxlan = u8([0x08, 0, 0, 0, 0, 0, 1, 0], ether(0x0800, inner, [2, 0, 0, 0, 1, 1], [2, 0, 0, 0, 2, 2]));
  const tzsp = u8([1, 0, 0, 1, 1], ether(0x0800, inner));
  const gre = ether(0x0800, ipv4('192.0.2.1', '192.0.2.2', 47, u8([0, 0, 0x08, 0x00], inner)));
  const cases: [string, Buffer, number][] = [
    ['GTP-U', outer(2152, 2152, gtp), 1], ['TZSP', outer(37008, 37008, tzsp), 3],
    ['VXLAN', outer(40000, 4789, vxlan), 4], ['GRE', gre, 5],
  ];
  for (const [name, frame, id] of cases) {
    const [f] = await one(`${name}.pcap`, DLT.EN10MB, frame);
    t.match(f, { src_ip: '10.1.0.1', dst_ip: '10.1.0.2', src_port: 4000, dst_port: 443, tunnel_id: id }, `${name}: inner flow, tunnel_id ${id}`);
    const [plain] = await one(`${name}-off.pcap`, DLT.EN10MB, frame, { decodeTunnels: false });
    t.equal(plain.src_ip, '192.0.2.1', `${name} with --no-decode-tunnels: the outer flow`);
    t.notOk('tunnel_id' in plain, 'and no tunnel_id column');
  }
  const [vx] = await one('vxlan-mac.pcap', DLT.EN10MB, outer(40000, 4789, vxlan));
  t.equal(vx.src_mac, '02:00:00:00:01:01', 'VXLAN: MACs from the inner Ethernet');
});

t.test('hostile nesting ends cleanly', async (t) => {
  let nest = TCP4;
  for (let i = 0; i < 40; i++) nest = ipv4('192.0.2.1', '192.0.2.2', 4, nest);
  t.equal((await ignoredBy('deep.pcap', DLT.RAW, nest)).too_deep, 1, '40 nested IP-in-IP headers: too deep');
  const tags: number[] = [];
  for (let i = 0; i < 20; i++) tags.push(...vlanTag(i, 0x8100));
  t.equal((await ignoredBy('vlans.pcap', DLT.EN10MB, ether(0x8100, u8(tags, TCP4)))).too_deep, 1, '20 stacked VLAN tags');
  const loop6 = ipv6('2001:db8::1', '2001:db8::2', 0, Buffer.concat(Array.from({ length: 30 }, () => Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]))));
  t.equal((await ignoredBy('extloop.pcap', DLT.RAW, loop6)).ipv6_extension, 1, '30 chained hop-by-hop headers');
});
