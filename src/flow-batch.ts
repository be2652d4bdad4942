/**
 * Finished flows as columns: the unit every source hands over and every writer, the anonymiser, the
 * IPFIX exporter and the plugin host take. It depends on the schema only.
 */
import { Field } from './schema';

/** A list of n numbers per row. */
export interface NumberList { n: number; values: ArrayLike<number> }
/** Fixed-width bytes per row: `items` arrays of `width` bytes (items undefined: one array). */
export interface ByteColumn { width: number; items?: number; bytes: Uint8Array }
/** Float64Array for numbers; BigUint64Array for nanosecond times, which pass 2^53. */
export type Column = Float64Array | BigUint64Array | string[] | NumberList | ByteColumn;

export function isByteColumn(c: Column): c is ByteColumn {
  return !Array.isArray(c) && !ArrayBuffer.isView(c) && 'bytes' in c;
}

/** Bytes per row of a byte column. */
export function rowBytes(c: ByteColumn): number {
  return c.width * (c.items ?? 1);
}

export function hex(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('hex');
}

export type FlowValue = number | bigint | string | number[] | string[];

/** A batch of flows: one column per field, in the fields' order. */
export class FlowBatch {
  constructor(readonly fields: readonly Field[], readonly columns: readonly Column[], readonly length: number) {}

  /** The value of field i in row r: number, string, or number[] for list fields; bigint for
   * nanosecond times; hex strings for bytes. */
  value(i: number, r: number): FlowValue {
    const c = this.columns[i];
    if (Array.isArray(c)) return c[r];
    if (c instanceof Float64Array || c instanceof BigUint64Array) return c[r];
    if (isByteColumn(c)) {
      const at = r * rowBytes(c);
      if (c.items === undefined) return hex(c.bytes, at, at + c.width);
      return Array.from({ length: c.items }, (_, k) => hex(c.bytes, at + k * c.width, at + (k + 1) * c.width));
    }
    const out = new Array<number>(c.n);
    for (let k = 0; k < c.n; k++) out[k] = c.values[r * c.n + k];
    return out;
  }

  /** Rows [from, to) as a batch sharing this one's memory. */
  slice(from: number, to: number): FlowBatch {
    if (from === 0 && to === this.length) return this;
    const columns = this.columns.map((c): Column => {
      if (Array.isArray(c)) return c.slice(from, to);
      if (c instanceof Float64Array || c instanceof BigUint64Array) return c.subarray(from, to);
      if (isByteColumn(c)) return { ...c, bytes: c.bytes.subarray(from * rowBytes(c), to * rowBytes(c)) };
      return { n: c.n, values: Array.prototype.slice.call(c.values, from * c.n, to * c.n) as number[] };
    });
    return new FlowBatch(this.fields, columns, to - from);
  }

  /** The given rows, in the given order, as a new batch. */
  pick(rows: readonly number[]): FlowBatch {
    const columns = this.columns.map((c): Column => {
      if (Array.isArray(c)) return rows.map((r) => c[r]);
      if (c instanceof Float64Array) return Float64Array.from(rows, (r) => c[r]);
      if (c instanceof BigUint64Array) return BigUint64Array.from(rows, (r) => c[r]);
      if (isByteColumn(c)) {
        const w = rowBytes(c);
        const bytes = new Uint8Array(rows.length * w);
        rows.forEach((r, k) => bytes.set(c.bytes.subarray(r * w, (r + 1) * w), k * w));
        return { ...c, bytes };
      }
      const values = new Float64Array(rows.length * c.n);
      rows.forEach((r, k) => { for (let j = 0; j < c.n; j++) values[k * c.n + j] = c.values[r * c.n + j]; });
      return { n: c.n, values };
    });
    return new FlowBatch(this.fields, columns, rows.length);
  }

  /** A copy with some columns replaced (same length). */
  withColumns(replace: ReadonlyMap<number, Column>): FlowBatch {
    return new FlowBatch(this.fields, this.columns.map((c, i) => replace.get(i) ?? c), this.length);
  }

  /** Row r as a plain object keyed by field name. */
  row(r: number): Record<string, FlowValue> {
    const o: Record<string, FlowValue> = {};
    for (let i = 0; i < this.fields.length; i++) o[this.fields[i].name] = this.value(i, r);
    return o;
  }
}
