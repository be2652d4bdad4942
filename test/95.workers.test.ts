/** Worker processes (read --workers with plugins; capture) give the same flows as one meter on the
 * oracle captures (as sets: ids aside). Every sixth capture: a process start each, and the lanes'
 * test (96) covers every capture in-process. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { parseMeterOptions } from '../src/options';
import { FlowStreamer, StreamerOptions } from '../src/streamer';
import { WorkerPool } from '../src/workers/pool';
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
