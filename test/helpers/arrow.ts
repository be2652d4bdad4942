/** Arrow tables read back by apache-arrow, as plain values the tests compare. */
import { Table as ArrowTable } from 'apache-arrow';

/** A value as JSON can compare it: numbers, lowercase hex for bytes, arrays for lists. */
export function norm(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v && typeof v === 'object' && 'toArray' in v) return Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), norm);
  if (Array.isArray(v)) return v.map(norm);
  return v;
}

/** Every row, each a list of norm()'d values in column order. */
export function rows(table: ArrowTable): unknown[][] {
  const cols = table.schema.fields.map((f) => table.getChild(f.name)!);
  return Array.from({ length: table.numRows }, (_, r) => cols.map((c) => norm(c.get(r))));
}
