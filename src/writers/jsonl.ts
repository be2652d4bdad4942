/** JSON Lines: one object per flow, keys in schema order, lists as arrays. */
import { Field } from '../schema';
import { FlowBatch } from '../streamer';
import { Sink } from './sink';
import { FlowWriter } from './writer';

export function jsonlWriter(fields: readonly Field[], sink: Sink): FlowWriter {
  const keys = fields.map((f) => JSON.stringify(f.name) + ':');
  const kinds = fields.map((f) => (f.type === 'string' ? 's' : f.type.startsWith('list') ? 'l' : 'n'));
  return {
    async write(batch: FlowBatch) {
      const lines: string[] = new Array(batch.length);
      for (let r = 0; r < batch.length; r++) {
        let line = '{';
        for (let i = 0; i < fields.length; i++) {
          const v = batch.value(i, r);
          const text = kinds[i] === 's' ? JSON.stringify(v) : kinds[i] === 'l' ? `[${(v as number[]).join(',')}]` : String(v);
          line += (i ? ',' : '') + keys[i] + text;
        }
        lines[r] = line + '}\n';
      }
      await sink.write(lines.join(''));
    },
    async close() {
      await sink.close();
    },
  };
}
