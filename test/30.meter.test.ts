/** Flow semantics: direction, idle and active expiry with their ids, export order, accounting
 * modes, forced-monotonic time, --max-flows, several files in one table. */
import t from 'tap';
import { DLT, ipv4, tcp, TCP_ACK, TCP_SYN, udp, writePcap } from './helpers/packets';
import { flows } from './helpers/run';

const A = '10.0.0.1', B = '10.0.0.2', C = '10.0.0.3';
const ab = (sport = 1000, dport = 80, flags = TCP_ACK) => ipv4(A, B, 6, tcp(sport, dport, flags));
const ba = (sport = 80, dport = 1000, flags = TCP_ACK) => ipv4(B, A, 6, tcp(sport, dport, flags));

t.test('direction: src is the first sender', async (t) => {
  const f = (await flows([writePcap('dir.pcap', DLT.RAW, [
    { t: 10, frame: ba(80, 1000, TCP_SYN) }, { t: 10.1, frame: ab(1000, 80) }, { t: 10.2, frame: ab(1000, 80) },
  ])]))[0];
  t.match(f, { src_ip: B, src_port: 80, dst_ip: A, src2dst_packets: 1, dst2src_packets: 2,
    src2dst_first_seen_ms: 10000, dst2src_first_seen_ms: 10100, dst2src_last_seen_ms: 10200, dst2src_duration_ms: 100 });
});

t.test('a one-direction flow has zeros for the other direction', async (t) => {
  const [f] = await flows([writePcap('onedir.pcap', DLT.RAW, [{ t: 5, frame: ab() }, { t: 6, frame: ab() }])]);
  t.match(f, { dst2src_packets: 0, dst2src_bytes: 0, dst2src_first_seen_ms: 0, dst2src_last_seen_ms: 0, dst2src_duration_ms: 0 });
});

t.test('idle timeout: expiration_id 0, the packet starts a new flow', async (t) => {
  const got = await flows([writePcap('idle.pcap', DLT.RAW, [
    { t: 100, frame: ab() }, { t: 104.999, frame: ba() }, { t: 110, frame: ab() },
  ])], { idleTimeout: '5' });
  t.equal(got.length, 2);
  t.match(got[0], { id: 0, expiration_id: 0, bidirectional_packets: 2, bidirectional_last_seen_ms: 104999 });
  t.match(got[1], { id: 1, expiration_id: 0, bidirectional_packets: 1, bidirectional_first_seen_ms: 110000 });
});

t.test('idle timeout at exactly the limit expires (>=)', async (t) => {
  const got = await flows([writePcap('idle-eq.pcap', DLT.RAW, [{ t: 100, frame: ab() }, { t: 105, frame: ab() }])], { idleTimeout: '5' });
  t.equal(got.length, 2);
});

t.test('active timeout: expiration_id 1', async (t) => {
  const recs = [];
  for (let i = 0; i <= 12; i++) recs.push({ t: 1000 + i, frame: i % 2 ? ba() : ab() });
  const got = await flows([writePcap('active.pcap', DLT.RAW, recs)], { activeTimeout: '5', idleTimeout: '60' });
  t.same(got.map((f) => [f.expiration_id, f.bidirectional_packets]), [[1, 5], [1, 5], [0, 3]]);
});

t.test('the 10 ms idle scan ends idle flows in creation order, before the end of input', async (t) => {
  const got = await flows([writePcap('scan.pcap', DLT.RAW, [
    { t: 1, frame: ipv4(A, B, 17, udp(1, 53)) },      // flow x
    { t: 2, frame: ipv4(A, C, 17, udp(2, 53)) },      // flow y
    { t: 50, frame: ipv4(B, C, 17, udp(3, 53)) },     // flow z: its packet's scan ends x and y (idle 10 s)
    { t: 51, frame: ipv4(A, B, 17, udp(1, 53)) },     // x again: a new flow
  ])], { idleTimeout: '10' });
  t.same(got.map((f) => `${f.src_port}:${f.bidirectional_first_seen_ms}`), ['1:1000', '2:2000', '3:50000', '1:51000']);
});

t.test('flows still open at the end are exported in creation order', async (t) => {
  const got = await flows([writePcap('flush.pcap', DLT.RAW, [
    { t: 1, frame: ipv4(A, B, 17, udp(7, 53)) }, { t: 1.001, frame: ipv4(A, B, 17, udp(5, 53)) },
    { t: 1.002, frame: ipv4(A, B, 17, udp(7, 53)) },
  ])]);
  t.same(got.map((f) => f.src_port), [7, 5]);
  t.same(got.map((f) => f.id), [0, 1]);
});

t.test('time is forced monotonic', async (t) => {
  const [f] = await flows([writePcap('back.pcap', DLT.RAW, [
    { t: 20, frame: ab() }, { t: 10, frame: ba() }, { t: 21, frame: ab() },
  ])], { stats: true });
  t.match(f, { bidirectional_first_seen_ms: 20000, dst2src_first_seen_ms: 20000, bidirectional_min_piat_ms: 0,
    bidirectional_max_piat_ms: 1000, bidirectional_duration_ms: 1000 });
});

t.test('accounting modes size every byte count', async (t) => {
  const payload = Buffer.alloc(100);
  const frame = ipv4(A, B, 6, tcp(1000, 80, TCP_ACK, payload));
  const file = writePcap('acct.pcap', DLT.RAW, [{ t: 1, frame, wireLen: frame.length + 14 }]);
  const sizes: Record<string, number> = {};
  for (const mode of ['raw', 'ip', 'transport', 'payload']) {
    const [f] = await flows([file], { accountingMode: mode, stats: true, splt: '1' });
    sizes[mode] = f.bidirectional_bytes as number;
    t.equal(f.bidirectional_max_ps, sizes[mode], `${mode}: statistics use the same size`);
    t.same(f.splt_ps, [sizes[mode]], `${mode}: SPLT uses the same size`);
  }
  t.same(sizes, { raw: 154, ip: 140, transport: 120, payload: 100 });
});

t.test('--max-flows stops after that many flows', async (t) => {
  const recs = Array.from({ length: 10 }, (_, i) => ({ t: 1 + i, frame: ipv4(A, B, 17, udp(100 + i, 53)) }));
  const got = await flows([writePcap('max.pcap', DLT.RAW, recs)], { maxFlows: '3' });
  t.same(got.map((f) => f.id), [0, 1, 2]);
});

t.test('several files: one table, one clock, in order', async (t) => {
  const f1 = writePcap('part1.pcap', DLT.RAW, [{ t: 1, frame: ab() }]);
  const f2 = writePcap('part2.pcap', DLT.EN10MB, [{ t: 2, frame: Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 11, 2, 0, 0, 0, 0, 10, 8, 0]), ba()]) }]);
  const got = await flows([f1, f2]);
  t.equal(got.length, 1, 'the same flow across files with different link types');
  t.equal(got[0].bidirectional_packets, 2);
});

t.test('--bpf keeps matching packets; --snaplen cuts what is looked at, not what is counted', async (t) => {
  const file = writePcap('bpf.pcap', DLT.RAW, [
    { t: 1, frame: ab() }, { t: 1.1, frame: ipv4(A, B, 17, udp(5000, 53)) }, { t: 1.2, frame: ba() },
  ]);
  const udpOnly = await flows([file], { bpf: 'udp' });
  t.same(udpOnly.map((f) => f.protocol), [17]);
  const tcpOnly = await flows([file], { bpf: 'tcp and port 80' });
  t.same(tcpOnly.map((f) => [f.protocol, f.bidirectional_packets]), [[6, 2]]);
  const [cut] = await flows([writePcap('snap.pcap', DLT.RAW, [{ t: 1, frame: ab() }])], { snaplen: '30' }); // 28 is the minimum frame
  t.match(cut, { protocol: 6, src_port: 0, dst_port: 0, bidirectional_bytes: 40 }, 'ports not captured: 0; bytes from the wire length');
});
