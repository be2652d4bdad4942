/** JSON Lines: one object per flow, keys in schema order, lists as arrays, bytes as hex strings,
 * a number JSON cannot spell (NaN, ±Infinity, e.g. from a plugin) as null;
 * nanosecond times as whole numbers beyond 2^53 (exact for pandas, DuckDB, Spark; JavaScript's
 * JSON.parse rounds them). Encoded straight into bytes like the CSV writer. */
import { Field } from '../schema';
import { FlowBatch, isByteColumn, rowBytes } from '../flow-batch';
import { ByteBuilder } from './bytes';
import { Sink } from './sink';
import { FlowWriter } from './writer';

/** A string JSON can hold as it is (no quote, backslash or control character). */
// eslint-disable-next-line no-control-regex -- the control characters JSON must escape
const PLAIN = /^[^"\\\u0000-\u001f]*$/;

/** Each field's key as it opens its value ({"id": first, ,"name": after), as UTF-8 bytes. */
export function jsonlKeys(fields: readonly Field[]): Uint8Array[] {
  return fields.map((f, i) => Buffer.from((i ? ',' : '{') + JSON.stringify(f.name) + ':', 'utf8'));
}

const NULL = Buffer.from('null', 'latin1');
const END = Buffer.from('}\n', 'latin1');

/** The batch's rows, appended to out (the same bytes on a lane's thread as here). A row at a time:
 * one loop over every row of a batch ran interpreted until V8 replaced it mid-loop, batch after
 * batch (measured: twice the CPU of the same work done per row). */
export function jsonlRows(keys: readonly Uint8Array[], batch: FlowBatch, out: ByteBuilder): void {
  const cols = batch.columns;
  for (let r = 0; r < batch.length; r++) jsonlRow(keys, cols, r, out);
}

const wellFormed = (s: string): string => (s as string & { toWellFormed(): string }).toWellFormed();

function jsonlRow(keys: readonly Uint8Array[], cols: FlowBatch['columns'], r: number, out: ByteBuilder): void {
  for (let i = 0; i < cols.length; i++) {
    out.raw(keys[i]);
    const c = cols[i];
    if (Array.isArray(c)) {
      const s = c[r];
      out.byte(0x22);
      if (!out.plain(s, false)) {
        out.length--;
        // a lone surrogate (a plugin's text) as U+FFFD, as the other formats write it: JSON.stringify
        // escapes it as \ud800, which pyarrow and DuckDB refuse
        if (PLAIN.test(s)) { out.byte(0x22); out.text(s); out.byte(0x22); } else out.text(JSON.stringify(wellFormed(s)));
      } else out.byte(0x22);
    } else if (c instanceof Float64Array) {
      const v = c[r];
      // NaN (a plugin's missing value) and infinities have no JSON spelling
      if (Number.isFinite(v)) out.number(v); else out.raw(NULL);
    } else if (c instanceof BigUint64Array) {
      out.text(c[r].toString());
    } else if (isByteColumn(c)) {
      const at = r * rowBytes(c);
      if (c.items === undefined) { out.byte(0x22); out.hex(c.bytes, at, at + c.width); out.byte(0x22); } else out.hexList(c.bytes, at, c.width, c.items, '"');
    } else {
      out.byte(0x5b);
      for (let k = r * c.n; k < (r + 1) * c.n; k++) {
        if (k > r * c.n) out.byte(0x2c);
        const v = c.values[k];
        if (Number.isFinite(v)) out.number(v); else out.raw(NULL);
      }
      out.byte(0x5d);
    }
  }
  out.raw(END);
}

export function jsonlWriter(fields: readonly Field[], sink: Sink): FlowWriter {
  const keys = jsonlKeys(fields);
  const out = new ByteBuilder(1 << 20);
  return {
    async write(batch: FlowBatch) {
      out.reset();
      jsonlRows(keys, batch, out);
      await sink.write(Buffer.from(out.view()));
    },
    async close() {
      await sink.close();
    },
  };
}
