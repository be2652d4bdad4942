/**
 * CSV (RFC 4180): a header of field names, then one row per flow; a list is one cell holding JSON
 * ([0,1,0]); bytes are hex (a list of them, a JSON array of hex strings). Encoded here, straight into bytes: quoting only what needs it, numbers digit by digit.
 * A general-purpose stringifier, and even row strings, made the writer the bottleneck of a whole
 * read (npm run bench:writers).
 */
import { Field } from '../schema';
import { FlowBatch, isByteColumn, rowBytes } from '../flow-batch';
import { ByteBuilder } from './bytes';
import { Sink } from './sink';
import { FlowWriter } from './writer';

const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(fields: readonly Field[]): string {
  return fields.map((f) => csvCell(f.name)).join(',') + '\n';
}

/** The batch's rows, appended to out (the same bytes on a lane's thread as here). */
export function csvRows(batch: FlowBatch, out: ByteBuilder): void {
  const cols = batch.columns;
  for (let r = 0; r < batch.length; r++) {
    for (let i = 0; i < cols.length; i++) {
      if (i) out.byte(0x2c);
      const c = cols[i];
      if (Array.isArray(c)) { const s = c[r]; if (!out.plain(s, true)) out.text(csvCell(s)); }
      else if (c instanceof Float64Array) {
        // NaN (a plugin's missing value): empty; infinities as pandas writes them (polars reads
        // "Infinity" as text, and the column with it)
        const v = c[r];
        if (v === v) { if (v === Infinity) out.text('inf'); else if (v === -Infinity) out.text('-inf'); else out.number(v); }
      }
      else if (c instanceof BigUint64Array) out.text(c[r].toString());
      else if (isByteColumn(c)) {
        const at = r * rowBytes(c);
        if (c.items === undefined) out.hex(c.bytes, at, at + c.width);
        else { out.byte(0x22); out.hexList(c.bytes, at, c.width, c.items, '""'); out.byte(0x22); }
      } else {
        out.text('"[');
        for (let k = r * c.n; k < (r + 1) * c.n; k++) {
          if (k > r * c.n) out.byte(0x2c);
          out.number(c.values[k]);
        }
        out.text(']"');
      }
    }
    out.byte(0x0a);
  }
}

export function csvWriter(fields: readonly Field[], sink: Sink): FlowWriter {
  const header = csvHeader(fields);
  let headerDone = false;
  const out = new ByteBuilder(1 << 20);
  return {
    async write(batch: FlowBatch) {
      out.reset();
      if (!headerDone) out.text(header);
      headerDone = true;
      csvRows(batch, out);
      await sink.write(Buffer.from(out.view()));
    },
    async close() {
      if (!headerDone) await sink.write(header);
      await sink.close();
    },
  };
}
