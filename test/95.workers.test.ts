/** Worker processes (read --workers with plugins; capture) give the same flows as one meter on the
 * oracle captures (as sets: ids aside). Every sixth capture: a process start each, and the lanes'
 * test (96) covers every capture in-process. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { parseMeterOptions, parseReadOptions } from '../src/options';
import { FlowStreamer, StreamerOptions } from '../src/streamer';
import { WorkerPool } from '../src/workers/pool';
import { tmpdir, udpBurst } from './helpers/packets';
import { NO_ORACLE, ORACLE, sortedRows } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');


t.test('oracle captures: two worker processes, same flows as one meter', { skip: NO_ORACLE }, async (t) => {
  let flows = 0;
  const differing: string[] = [];
  for (const name of fs.readdirSync(PCAPS).sort().filter((_, i) => i % 6 === 0)) {
    const opts: StreamerOptions = { ...parseMeterOptions({ stats: true, splt: '5' }), files: [path.join(PCAPS, name)] };
    const one = await sortedRows(new FlowStreamer(opts));
    const pool = new WorkerPool(opts, 2);
    pool.start();
    const two = await sortedRows(pool);
    flows += one.length;
    if (JSON.stringify(one) !== JSON.stringify(two)) differing.push(`${name} (${one.length} vs ${two.length})`);
  }
  t.same(differing, [], `${flows} flows compared field by field`);
  t.ok(flows > 200, 'a sixth of the oracle folder');
});

// A stop asked for before the workers started (a signal while the outputs opened) went to no
// worker: they read on to the end (a capture: until the stop's watchdog killed them, 10 s later).
// A worker loads its plugins before it opens its meter: a stop meanwhile must hold too.
t.test('a stop asked for before the workers start reaches them; one before a meter opens holds', async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'stop-early-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'burst.pcap');
  const packets = 300_000;
  fs.writeFileSync(file, udpBurst(packets, { start: 1_700_000_000, stepUs: 10, sources: 5000, payload: 20 }));
  const drain = async (source: { batches(): AsyncGenerator<unknown> }) => { for await (const _ of source.batches()) { /* drained */ } };

  const meter = new FlowStreamer({ ...parseMeterOptions({}), files: [file] });
  meter.stop();
  await drain(meter);
  t.ok((meter.stats()?.packets ?? 0) < packets, `one meter stopped before it opened: ${meter.stats()?.packets} of ${packets} packets read`);

  const opts = parseReadOptions([file], { workers: '2', plugin: ['dhcp'] });
  const pool = new WorkerPool(opts, 2);
  pool.stop();
  pool.start();
  await drain(pool);
  t.ok(pool.stats().packets < packets, `two workers stopped before they started: ${pool.stats().packets} of ${packets} packets read`);

  // stopped twice over (kill) before the start: no worker starts
  const killed = new WorkerPool(opts, 2);
  killed.kill();
  killed.start();
  await drain(killed);
  t.equal(killed.stats().packets, 0, 'killed before the start: nothing read');
});
