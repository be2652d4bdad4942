/** --stats and --splt: unit cases on built packets, and every flow of several oracle captures
 * recomputed independently from tshark's view of the same packets. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';
import { DLT, ipv4, tcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, udp, writePcap } from './helpers/packets';
import { Flow, flows, NO_ORACLE, ORACLE } from './helpers/run';

const A = '10.0.0.1', B = '10.0.0.2';
const ab = (flags = TCP_ACK, len = 0) => ipv4(A, B, 6, tcp(1000, 80, flags, Buffer.alloc(len)));
const ba = (flags = TCP_ACK, len = 0) => ipv4(B, A, 6, tcp(80, 1000, flags, Buffer.alloc(len)));

t.test('one-packet flow', async (t) => {
  const [f] = await flows([writePcap('stat1.pcap', DLT.RAW, [{ t: 1, frame: ab(TCP_SYN) }])], { stats: true, splt: '3' });
  t.match(f, { bidirectional_min_ps: 40, bidirectional_mean_ps: 40, bidirectional_max_ps: 40, bidirectional_stddev_ps: 0,
    bidirectional_min_piat_ms: 0, bidirectional_mean_piat_ms: 0, bidirectional_max_piat_ms: 0, bidirectional_stddev_piat_ms: 0,
    dst2src_min_ps: 0, dst2src_mean_ps: 0, dst2src_max_ps: 0, bidirectional_syn_packets: 1, dst2src_syn_packets: 0 });
  t.same(f.splt_direction, [0, -1, -1]);
  t.same(f.splt_ps, [40, -1, -1]);
  t.same(f.splt_piat_ms, [0, -1, -1]);
});

t.test('equal timestamps give zero inter-arrival times', async (t) => {
  const [f] = await flows([writePcap('stateq.pcap', DLT.RAW, [1, 2, 3].map(() => ({ t: 5, frame: ab() })))], { stats: true });
  t.match(f, { bidirectional_min_piat_ms: 0, bidirectional_max_piat_ms: 0, bidirectional_mean_piat_ms: 0, bidirectional_stddev_piat_ms: 0 });
});

t.test('sizes and inter-arrival statistics by hand', async (t) => {
  // sizes 40, 140, 90, 240 at t = 0, 10, 40, 100 ms; src2dst: 1st and 3rd, dst2src: 2nd and 4th
  const [f] = await flows([writePcap('stathand.pcap', DLT.RAW, [
    { t: 1, frame: ab(TCP_SYN) }, { t: 1.010, frame: ba(TCP_SYN | TCP_ACK, 100) },
    { t: 1.040, frame: ab(TCP_PSH | TCP_ACK, 50) }, { t: 1.100, frame: ba(TCP_FIN | TCP_ACK, 200) },
  ])], { stats: true });
  const sizes = [40, 140, 90, 240], mean = 127.5;
  const sd = Math.sqrt(sizes.reduce((s, x) => s + (x - mean) ** 2, 0) / 3);
  t.match(f, { bidirectional_min_ps: 40, bidirectional_max_ps: 240, bidirectional_mean_ps: mean });
  t.ok(Math.abs((f.bidirectional_stddev_ps as number) - sd) < 1e-9, 'sample stddev of sizes');
  // piats 10, 30, 60: mean 33.33.., sample sd over n-1 = 3 intervals uses divisor n-2 = 2
  t.match(f, { bidirectional_min_piat_ms: 10, bidirectional_max_piat_ms: 60 });
  t.ok(Math.abs((f.bidirectional_mean_piat_ms as number) - 100 / 3) < 1e-12);
  t.ok(Math.abs((f.bidirectional_stddev_piat_ms as number) - Math.sqrt(((10 - 100 / 3) ** 2 + (30 - 100 / 3) ** 2 + (60 - 100 / 3) ** 2) / 2)) < 1e-9);
  t.match(f, { src2dst_min_piat_ms: 40, src2dst_max_piat_ms: 40, src2dst_stddev_piat_ms: 0, dst2src_mean_piat_ms: 90,
    src2dst_mean_ps: 65, dst2src_mean_ps: 190 });
  t.match(f, { bidirectional_syn_packets: 2, src2dst_syn_packets: 1, dst2src_syn_packets: 1, bidirectional_ack_packets: 3,
    src2dst_psh_packets: 1, dst2src_fin_packets: 1, src2dst_fin_packets: 0, bidirectional_rst_packets: 0 });
});

t.test('TCP flags each counted in each direction; zero for UDP', async (t) => {
  const every = TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | 0x20 | 0x40 | 0x80;
  const [f] = await flows([writePcap('flags.pcap', DLT.RAW, [{ t: 1, frame: ab(every) }, { t: 2, frame: ba(every) }, { t: 3, frame: ba(every) }])], { stats: true });
  for (const fl of ['syn', 'cwr', 'ece', 'urg', 'ack', 'psh', 'rst', 'fin']) {
    t.same([f[`bidirectional_${fl}_packets`], f[`src2dst_${fl}_packets`], f[`dst2src_${fl}_packets`]], [3, 1, 2], fl);
  }
  const [u] = await flows([writePcap('udpflags.pcap', DLT.RAW, [{ t: 1, frame: ipv4(A, B, 17, udp(1, 2)) }])], { stats: true });
  t.equal(u.bidirectional_syn_packets, 0);
});

t.test('SPLT: shorter and longer than N, N = 1 and N = 255', async (t) => {
  const recs = Array.from({ length: 300 }, (_, i) => ({ t: 1 + i * 0.002, frame: i % 3 === 1 ? ba(TCP_ACK, i % 7) : ab(TCP_ACK, i % 5) }));
  const file = writePcap('splt.pcap', DLT.RAW, recs);
  const [one] = await flows([file], { splt: '1' });
  t.same([one.splt_direction, one.splt_ps, one.splt_piat_ms], [[0], [40], [0]], 'N = 1');
  const [all] = await flows([file], { splt: '255' });
  t.equal((all.splt_ps as number[]).length, 255, 'N = 255 on a 300-packet flow: 255 entries');
  t.same((all.splt_direction as number[]).slice(0, 6), [0, 1, 0, 0, 1, 0]);
  t.same((all.splt_piat_ms as number[]).slice(0, 4), [0, 2, 2, 2]);
  t.notOk((all.splt_ps as number[]).includes(-1), 'no padding on a long flow');
  const short = writePcap('splt-short.pcap', DLT.RAW, recs.slice(0, 4));
  const [s] = await flows([short], { splt: '6' });
  t.same(s.splt_direction, [0, 1, 0, 0, -1, -1], 'a short flow is padded with -1');
});

/** Recomputes the statistics of flows from tshark's fields, NFStream's arithmetic, and compares. */
interface Pkt { ms: number; len: number; key: string; fwdKey: string; flags: number }

function tsharkPackets(file: string): Pkt[] {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.time_epoch', '-e', 'frame.len',
    '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ip.proto', '-e', 'ipv6.nxt', '-e', 'tcp.srcport',
    '-e', 'tcp.dstport', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'tcp.flags', '-e', 'ip.frag_offset'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const out: Pkt[] = [];
  let tick = 0;
  for (const line of r.stdout.split('\n')) {
    const [time, len, s4, d4, s6, d6, p4, p6, ts, td, us, ud, flags, frag] = line.split('\t');
    const src = s4 || s6, dst = d4 || d6;
    if (!src || src.includes(',') || (frag && frag !== '0')) continue; // not IP, tunnelled, or a later fragment
    const [sec, frac = '0'] = time.split('.');
    const ms = Math.max(tick, Number(sec) * 1000 + Math.floor(Number(frac.padEnd(9, '0').slice(0, 6)) / 1000));
    tick = ms;
    const proto = p4 || p6, sp = ts || us || '0', dp = td || ud || '0';
    out.push({ ms, len: Number(len), key: [src, sp, dst, dp, proto].join('|'), fwdKey: [dst, dp, src, sp, proto].join('|'), flags: flags ? parseInt(flags, 16) : 0 });
  }
  return out;
}

class Scope {
  n = 0; min = 0; max = 0; mean = 0; m2 = 0; last = 0;
  pn = 0; pmin = 0; pmax = 0; pmean = 0; pm2 = 0; flags = new Array(8).fill(0);
  add(ms: number, size: number, fl: number) {
    this.n++;
    [(fl >> 1) & 1, (fl >> 7) & 1, (fl >> 6) & 1, (fl >> 5) & 1, (fl >> 4) & 1, (fl >> 3) & 1, (fl >> 2) & 1, fl & 1].forEach((b, i) => { this.flags[i] += b; });
    if (this.n === 1) { this.min = this.max = this.mean = size; this.last = ms; return; }
    this.min = Math.min(this.min, size); this.max = Math.max(this.max, size);
    const old = this.mean; this.mean += (size - old) / this.n; this.m2 += (size - old) * (size - this.mean);
    const piat = ms - this.last; this.last = ms;
    if (this.n === 2) { this.pmin = this.pmax = this.pmean = piat; return; }
    this.pmin = Math.min(this.pmin, piat); this.pmax = Math.max(this.pmax, piat);
    const pold = this.pmean; this.pmean += (piat - pold) / (this.n - 1); this.pm2 += (piat - pold) * (piat - this.pmean);
  }
  expect(prefix: string): Flow {
    const o: Flow = {
      [`${prefix}_min_ps`]: this.min, [`${prefix}_mean_ps`]: this.mean, [`${prefix}_max_ps`]: this.max,
      [`${prefix}_stddev_ps`]: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0,
      [`${prefix}_min_piat_ms`]: this.pmin, [`${prefix}_mean_piat_ms`]: this.pmean, [`${prefix}_max_piat_ms`]: this.pmax,
      [`${prefix}_stddev_piat_ms`]: this.n > 2 ? Math.sqrt(this.pm2 / (this.n - 2)) : 0,
    };
    ['syn', 'cwr', 'ece', 'urg', 'ack', 'psh', 'rst', 'fin'].forEach((fl, i) => { o[`${prefix}_${fl}_packets`] = this.flags[i]; });
    return o;
  }
}

const CROSS = ['facebook.pcap', 'instagram.pcap', 'tor.pcap', 'ftp.pcap', 'google_ssl.pcap', 'youtubeupload.pcap', 'wechat.pcap', 'skype.pcap'];
const hasTshark = spawnSync('tshark', ['-v']).status === 0;

t.test('statistics equal a recomputation from tshark on oracle captures', { skip: NO_ORACLE || (hasTshark ? false : 'tshark is not installed (bash deps/install.sh --test)') }, async (t) => {
  let checked = 0;
  for (const name of CROSS) {
    const file = path.join(ORACLE, 'pcaps', name);
    const got = await flows([file], { stats: true });
    const pkts = tsharkPackets(file);
    const keyOf = (f: Flow) => [f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.protocol].join('|');
    const seen = new Map<string, number>();
    for (const f of got) seen.set(keyOf(f), (seen.get(keyOf(f)) ?? 0) + 1);
    let fileChecked = 0;
    for (const f of got) {
      const k = keyOf(f);
      if (seen.get(k) !== 1 || (f.protocol !== 6 && f.protocol !== 17)) continue; // one flow per 5-tuple only
      const bi = new Scope(), s2d = new Scope(), d2s = new Scope();
      for (const p of pkts) {
        if (p.ms < (f.bidirectional_first_seen_ms as number) || p.ms > (f.bidirectional_last_seen_ms as number)) continue;
        if (p.key === k) { bi.add(p.ms, p.len, p.flags); s2d.add(p.ms, p.len, p.flags); } else if (p.fwdKey === k) { bi.add(p.ms, p.len, p.flags); d2s.add(p.ms, p.len, p.flags); }
      }
      if (bi.n !== f.bidirectional_packets) { t.fail(`${name} ${k}: tshark sees ${bi.n} packets, flowseek ${f.bidirectional_packets}`); continue; }
      const want = { ...bi.expect('bidirectional'), ...s2d.expect('src2dst'), ...d2s.expect('dst2src') };
      const diff = Object.keys(want).filter((x) => want[x] !== f[x]);
      if (diff.length) t.fail(`${name} ${k}: ${diff.map((x) => `${x} ${f[x]} != ${want[x]}`).join('; ')}`);
      fileChecked++;
    }
    t.ok(fileChecked > 0, `${name}: ${fileChecked} flows recomputed`);
    checked += fileChecked;
  }
  t.comment(`tshark cross-check: ${checked} flows in ${CROSS.length} captures, every statistic equal`);
  t.ok(checked >= 100, `at least 100 flows checked (${checked})`);
});
