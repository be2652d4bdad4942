/** Memory that follows the options in use and goes once it is no longer needed (issue 22): a flow's
 * record has room for the --stats statistics only with --stats, and nDPI's state of a flow is freed
 * as soon as its detection is over, not when the flow ends. Peak RSS itself is measured in bench/
 * (bench/RESULTS.md), not here. */
import t, { Test } from 'tap';
import { loadNative, NativeOpenOptions, NativeStats } from '../src/native';
import { nativeMeterOptions } from '../src/native-options';
import { parseMeterOptions, RawReadOptions } from '../src/options';
import { DLT, ipv4, udp, writePcap } from './helpers/packets';

const native = loadNative();

/** A DNS message for www.example.org, A IN: the query, or the answer with one address. */
function dns(answer: boolean): Buffer {
  const name = Buffer.from([3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 3, ...Buffer.from('org'), 0]);
  const header = Buffer.from([0x12, 0x34, answer ? 0x81 : 0x01, answer ? 0x80 : 0x00, 0, 1, 0, answer ? 1 : 0, 0, 0, 0, 0]);
  const question = Buffer.concat([name, Buffer.from([0, 1, 0, 1])]);
  const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
  return Buffer.concat([header, question, answer ? rr : Buffer.alloc(0)]);
}

const unknown = (src: string, dst: string) => ipv4(src, dst, 17, udp(40000, 40001, Buffer.from('nothing nDPI knows')));

/** X alone at 0 s; a DNS query and its answer at 50 s; Z at 60 s and 101 s, whose second packet lets
 * the idle scan end X (idle timeout 100 s): the first batch comes with DNS and Z still open. */
const file = writePcap('memory.pcap', DLT.RAW, [
  { t: 0, frame: unknown('10.9.0.1', '10.9.0.2') },
  { t: 50, frame: ipv4('10.9.0.3', '10.9.0.4', 17, udp(33333, 53, dns(false))) },
  { t: 50.01, frame: ipv4('10.9.0.4', '10.9.0.3', 17, udp(53, 33333, dns(true))) },
  { t: 60, frame: unknown('10.9.0.5', '10.9.0.6') },
  { t: 101, frame: unknown('10.9.0.5', '10.9.0.6') },
]);

/** The counters that came with the first batch of one flow. */
async function firstBatch(t: Test, raw: RawReadOptions): Promise<NativeStats> {
  const o = parseMeterOptions({ idleTimeout: '100', ...raw });
  const meter = native.open({ ...nativeMeterOptions(o), files: [file] } as NativeOpenOptions);
  try {
    const batch = await meter.next(1);
    if (!batch) throw new Error('no batch');
    t.equal(batch.length, 1, 'X ended by the idle scan');
    return batch.counters;
  } finally {
    meter.close();
  }
}

t.test('nDPI state: freed when detection is over, kept while it goes on', async (t) => {
  const c = await firstBatch(t, {});
  t.equal(c.activeFlows, 2, 'the DNS flow and Z are open');
  // the DNS flow was detected at its answer; Z (unknown, two packets of 20) is still being detected
  t.equal(c.detectingFlows, 1, 'only Z holds nDPI state');
  t.equal((await firstBatch(t, { dissections: '0' })).detectingFlows, 0, 'none without detection');
});

t.test('flow records: sized to the options in use', async (t) => {
  t.ok(native.flowStatsBytes > 0, '--stats adds its statistics to a record');
  t.ok(native.flowRecordBytes <= 320, `a record without --stats holds none of them (${native.flowRecordBytes} bytes)`);
  // one chunk of 4096 records and 4096 hash slots of 8 bytes
  const plain = await firstBatch(t, {});
  t.equal(plain.tableBytes, 4096 * native.flowRecordBytes + 4096 * 8, 'the pool, without --stats');
  const stats = await firstBatch(t, { stats: true });
  t.equal(stats.tableBytes, 4096 * (native.flowRecordBytes + native.flowStatsBytes) + 4096 * 8, 'the pool, with --stats');
});
