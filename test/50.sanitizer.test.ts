/** The ASan + UBSan build of the meter (npm run build:asan) over every oracle capture and a set of
 * malformed frames, with statistics and SPLT on: no sanitizer report, same flows as the normal build. */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { DLT, ether, ipv4, ipv6, tcp, udp, u8, vlanTag, writePcap } from './helpers/packets';
import { NO_ORACLE, ORACLE, ROOT } from './helpers/run';

const addon = path.join(ROOT, 'build-asan', 'flowseek.node');

function hostileFiles(): string[] {
  const rnd = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (seed * 7919 + i * 104729) & 0xff));
  const frames: Buffer[] = [];
  for (let s = 0; s < 200; s++) frames.push(rnd(14 + (s % 90), s));                       // noise
  for (let cut = 20; cut < 80; cut++) frames.push(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(2152, 2152, Buffer.alloc(60, 0x30)))).subarray(0, cut));
  frames.push(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 2), { ihl: 15 })));     // IHL past the end
  frames.push(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 2), { totalLength: 65535 })));
  frames.push(ether(0x86dd, ipv6('::1', '::2', 0, Buffer.from([0, 255, 0, 0, 0, 0, 0, 0]))));
  frames.push(ether(0x8100, u8(...Array.from({ length: 30 }, () => vlanTag(1, 0x8100)))));
  frames.push(ether(0x8847, Buffer.alloc(64, 0)));                                          // MPLS without bottom
  for (let s = 0; s < 60; s++) {                                                            // QUIC Initials and ClientHellos of noise
    const noise = rnd(30 + s * 23, s + 1000);
    const quic = Buffer.concat([Buffer.from([0xc0 | (s & 3), 0, 0, 0, 1, s % 24]), noise]);
    frames.push(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(50000 + s, 443, quic))));
    const hello = Buffer.concat([Buffer.from([0x16, 3, 1, (noise.length >> 8) & 0xff, noise.length & 0xff, 1]), noise]);
    frames.push(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(40000 + s, 443, 0x18, hello))));
  }
  return [
    writePcap('asan-eth.pcap', DLT.EN10MB, frames.map((frame, i) => ({ t: 1 + i / 100, frame }))),
    ...[DLT.RADIOTAP, DLT.LINUX_SLL2, DLT.PPP, DLT.NULL, DLT.RAW].map((lt) =>
      writePcap(`asan-${lt}.pcap`, lt, frames.map((frame, i) => ({ t: 1 + i / 100, frame })))),
  ];
}

if (!fs.existsSync(addon)) {
  t.test('sanitized meter', { skip: 'sanitizer build not present: run "npm run build:asan" (CI always does)' }, async () => {});
} else {
  t.test('sanitized meter: every oracle capture and hostile frames, no report', { skip: NO_ORACLE }, async (t) => {
    const asan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
    const files = [...fs.readdirSync(path.join(ORACLE, 'pcaps')).map((f) => path.join(ORACLE, 'pcaps', f)), ...hostileFiles()];
    const script = `
      const { FlowStreamer, parseMeterOptions } = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'index.js'))});
      const { LaneSet } = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'workers', 'lanes.js'))});
      const count = async (source) => { let n = 0; for await (const b of source.batches()) n += b.length; return n; };
      (async () => {
        const all = JSON.parse(process.argv[1]);
        const opts = (files) => ({ ...parseMeterOptions({ stats: true, splt: '20' }), files });
        let flows = 0;
        for (const file of all) flows += await count(new FlowStreamer(opts([file])));
        // lanes: the reader thread, the rings, pcapng copies, the end of each file's map
        const one = await count(new FlowStreamer(opts(all)));
        const lanes = await count(new LaneSet(opts(all), 3));
        const early = new LaneSet(opts(all), 2);
        for await (const b of early.batches()) { early.stop(); }
        // rows made in C (native/text_rows.c), every kind of column, one meter and lanes
        const wide = (files) => ({ ...parseMeterOptions({ stats: true, splt: '9', payloadBytes: '40', headerBytes: '3', communityId: true,
          timePrecision: 'ns', activityFeatures: true }), files });
        const text = async (source, format) => { let n = 0; for await (const o of source.parts(format, {}, 0)) n += o.part.bytes[0].length; return n; };
        for (const format of ['csv', 'jsonl']) {
          if (!(await text(new FlowStreamer(wide(all)), format) > 0)) throw new Error('no text from one meter');
          if (!(await text(new LaneSet(wide(all), 2, false), format) > 0)) throw new Error('no text from lanes');
        }
        const native = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'native.js'))}).loadNative();
        for (let i = 0; i < 5000; i++) {
          const b = Buffer.from(Array.from({ length: i % 40 }, (_, k) => (i * 131 + k * 71) & 0xff));
          native.textCell('csv', b); native.textCell('jsonl', b);
        }
        console.log(flows, one, lanes);
      })().catch((e) => { console.error(e.message); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(files)], {
      encoding: 'utf8', maxBuffer: 1 << 26,
      env: { ...process.env, FLOWSEEK_ADDON: addon, LD_PRELOAD: asan, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
        UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
    });
    t.equal(r.status, 0, `exit 0 (${r.stderr.slice(0, 2000)})`);
    t.notMatch(r.stderr, /AddressSanitizer|runtime error|UndefinedBehavior/, 'no sanitizer report');
    const [each, one, lanes] = r.stdout.trim().split(' ').map(Number);
    t.ok(each > 2362, `flows came out (${each})`);
    t.equal(lanes, one, `three lanes over every file: the flows of one meter (${one})`);
  });

  t.test('sanitized system visibility by kernel events: start, events, matching, stop, twice; no report', async (t) => {
    const asan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
    const script = `
      const native = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'native.js'))}).loadNative();
      const net = require('net'), dgram = require('dgram');
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      (async () => {
        for (let round = 0; round < 2; round++) {
          const why = native.bpfStart(1000);
          if (why !== null) { console.log('unavailable: ' + why); return; }
          const server = net.createServer((s) => s.resume());
          await new Promise((r) => server.listen(0, '127.0.0.1', r));
          const port = server.address().port;
          const clients = [];
          for (let i = 0; i < 20; i++) clients.push(await new Promise((r) => { const c = net.connect(port, '127.0.0.1', () => r(c)); }));
          const u = dgram.createSocket('udp6');
          await new Promise((r) => u.bind(0, '::1', r));
          const v = dgram.createSocket('udp6');
          await new Promise((r) => v.send('x', u.address().port, '::1', r));
          // the reader thread takes events in order: once the last (the datagram) is in, all are
          const udpSeen = () => native.bpfMatch(new Float64Array([17]), ['::1'], new Float64Array([v.address().port]), ['::1'],
            new Float64Array([u.address().port])).pid[0] === process.pid;
          for (const end = Date.now() + 5000; !udpSeen() && Date.now() < end;) await sleep(20);
          for (const c of clients.slice(0, 10)) c.destroy();
          await sleep(50);
          const n = clients.length;
          const m = native.bpfMatch(new Float64Array([...clients.map(() => 6), 17, 17, 6]),
            [...clients.map(() => '127.0.0.1'), '::1', 'not an address', '1.2.3.4'],
            new Float64Array([...clients.map((c) => c.localPort), v.address().port, 1, 2]),
            [...clients.map(() => '127.0.0.1'), '::1', '::1', '5.6.7.8'],
            new Float64Array([...clients.map(() => port), u.address().port, 3, 4]));
          let threw = false;
          try { native.bpfMatch(new Float64Array(2), ['1.2.3.4'], new Float64Array(2), [], new Float64Array(2)); } catch { threw = true; }
          const stats = native.bpfStats();
          native.bpfStop();
          native.bpfStop();
          for (const c of clients) c.destroy();
          server.close(); u.close(); v.close();
          console.log([...m.pid.slice(0, n + 1)].every((p) => p === process.pid), m.pid[n + 1], m.pid[n + 2], threw, stats.events > 20);
        }
      })().catch((e) => { console.error(e.message); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, FLOWSEEK_ADDON: addon, LD_PRELOAD: asan, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
        UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
    });
    t.equal(r.status, 0, `exit 0 (${r.stderr.slice(0, 2000)})`);
    t.notMatch(r.stderr, /AddressSanitizer|runtime error|UndefinedBehavior/, 'no sanitizer report');
    if (r.stdout.startsWith('unavailable')) return t.comment(`BPF cannot load here: ${r.stdout.trim()}`);
    t.same(r.stdout.trim().split('\n'), ['true 0 0 true true', 'true 0 0 true true'],
      'each round: every flow of this process matched, the bad address and the unknown flow not, bad columns refused');
  });
}
