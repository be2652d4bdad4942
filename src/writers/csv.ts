/** CSV: a header of field names, then one row per flow; a list is one cell holding JSON ([0,1,0]). */
import { stringify } from 'csv-stringify/sync';
import { Field } from '../schema';
import { FlowBatch } from '../streamer';
import { Sink } from './sink';
import { FlowWriter } from './writer';

export function csvWriter(fields: readonly Field[], sink: Sink): FlowWriter {
  let headerDone = false;
  const lists = fields.map((f) => f.type.startsWith('list'));
  return {
    async write(batch: FlowBatch) {
      const rows: unknown[][] = new Array(batch.length);
      for (let r = 0; r < batch.length; r++) {
        const row = new Array(fields.length);
        for (let i = 0; i < fields.length; i++) {
          const v = batch.value(i, r);
          row[i] = lists[i] ? JSON.stringify(v) : v;
        }
        rows[r] = row;
      }
      const header = headerDone ? '' : stringify([fields.map((f) => f.name)]);
      headerDone = true;
      await sink.write(header + stringify(rows));
    },
    async close() {
      if (!headerDone) await sink.write(stringify([fields.map((f) => f.name)]));
      await sink.close();
    },
  };
}
