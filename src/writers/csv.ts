/**
 * CSV (RFC 4180): a header of field names, then one row per flow; a list is one cell holding JSON
 * ([0,1,0]). Encoded here, not by a library: a row is a handful of numbers and short strings, and
 * quoting only what needs it is several times faster than a general-purpose stringifier
 * (npm run bench:writers).
 */
import { Field } from '../schema';
import { FlowBatch } from '../streamer';
import { Sink } from './sink';
import { FlowWriter } from './writer';

const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvWriter(fields: readonly Field[], sink: Sink): FlowWriter {
  const header = fields.map((f) => csvCell(f.name)).join(',') + '\n';
  let headerDone = false;
  return {
    async write(batch: FlowBatch) {
      const cols = batch.columns;
      let text = headerDone ? '' : header;
      headerDone = true;
      for (let r = 0; r < batch.length; r++) {
        let line = '';
        for (let i = 0; i < cols.length; i++) {
          const c = cols[i];
          const cell = Array.isArray(c) ? csvCell(c[r])
            : c instanceof Float64Array ? String(c[r])
            : `"[${Array.prototype.slice.call(c.values, r * c.n, (r + 1) * c.n).join(',')}]"`;
          line += i ? `,${cell}` : cell;
        }
        text += line + '\n';
      }
      await sink.write(text);
    },
    async close() {
      if (!headerDone) await sink.write(header);
      await sink.close();
    },
  };
}
