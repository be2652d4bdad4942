/** JSON Lines: one object per flow, keys in schema order, lists as arrays. */
import { Field } from '../schema';
import { FlowBatch } from '../streamer';
import { Sink } from './sink';
import { FlowWriter } from './writer';

/** A string JSON can hold as it is (no quote, backslash or control character). */
const PLAIN = /^[^"\\\u0000-\u001f]*$/;

export function jsonlWriter(fields: readonly Field[], sink: Sink): FlowWriter {
  const keys = fields.map((f, i) => (i ? ',' : '{') + JSON.stringify(f.name) + ':');
  return {
    async write(batch: FlowBatch) {
      const cols = batch.columns;
      let text = '';
      for (let r = 0; r < batch.length; r++) {
        let line = '';
        for (let i = 0; i < cols.length; i++) {
          const c = cols[i];
          let v: string;
          if (Array.isArray(c)) {
            const s = c[r];
            v = PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
          } else if (c instanceof Float64Array) {
            v = String(c[r]);
          } else {
            v = `[${Array.prototype.slice.call(c.values, r * c.n, (r + 1) * c.n).join(',')}]`;
          }
          line += keys[i] + v;
        }
        text += line + '}\n';
      }
      await sink.write(text);
    },
    async close() {
      await sink.close();
    },
  };
}
