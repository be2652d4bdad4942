/**
 * From the field schema to Parquet columns: each field's physical type and annotation, and the
 * PLAIN encoding of a run of its rows (with repetition and definition levels for lists).
 */
import { Field, FieldType } from '../../schema';
import { Column, isByteColumn, NumberList, rowBytes } from '../../streamer';
import { ByteBuilder } from '../bytes';
import { ConvertedType, PhysicalType, Repetition, SchemaNode } from './format';

export interface ColumnSpec {
  field: Field;
  physical: number;
  path: string[];
  nodes: SchemaNode[];
  /** bytes per row, roughly, to size pages and row groups */
  rowBytes: number;
}

const SCALAR: Record<Exclude<FieldType, 'list<int64>' | 'list<bytes>' | 'bytes'>, { physical: number; converted?: number }> = {
  uint64: { physical: PhysicalType.INT64 },
  int64: { physical: PhysicalType.INT64 },
  uint32: { physical: PhysicalType.INT32, converted: ConvertedType.UINT_32 },
  uint16: { physical: PhysicalType.INT32, converted: ConvertedType.UINT_16 },
  uint8: { physical: PhysicalType.INT32, converted: ConvertedType.UINT_8 },
  int8: { physical: PhysicalType.INT32, converted: ConvertedType.INT_8 },
  float64: { physical: PhysicalType.DOUBLE },
  string: { physical: PhysicalType.BYTE_ARRAY, converted: ConvertedType.UTF8 },
};

function listSpec(field: Field, physical: number, rowBytes: number, typeLength?: number): ColumnSpec {
  return {
    field, physical, path: [field.name, 'list', 'element'], rowBytes,
    nodes: [
      { name: field.name, repetition: Repetition.REQUIRED, children: 1, converted: ConvertedType.LIST },
      { name: 'list', repetition: Repetition.REPEATED, children: 1 },
      { name: 'element', type: physical, typeLength, repetition: Repetition.REQUIRED },
    ],
  };
}

/** One column per field; a list is `required group name (LIST) { repeated group list { required <type> element } }`;
 * bytes are FIXED_LEN_BYTE_ARRAY of the field's width. */
export function columnSpecs(fields: readonly Field[], listLength: number): ColumnSpec[] {
  return fields.map((field) => {
    if (field.type === 'list<int64>') return listSpec(field, PhysicalType.INT64, 8 * Math.max(1, listLength));
    const width = field.width ?? 1;
    if (field.type === 'list<bytes>') {
      return listSpec(field, PhysicalType.FIXED_LEN_BYTE_ARRAY, width * Math.max(1, field.items ?? 1), width);
    }
    if (field.type === 'bytes') {
      const physical = PhysicalType.FIXED_LEN_BYTE_ARRAY;
      return { field, physical, path: [field.name], rowBytes: width, nodes: [{ name: field.name, type: physical, typeLength: width, repetition: Repetition.REQUIRED }] };
    }
    const s = SCALAR[field.type];
    return {
      field, physical: s.physical, path: [field.name], rowBytes: field.type === 'string' ? 24 : 8,
      nodes: [{ name: field.name, type: s.physical, repetition: Repetition.REQUIRED, converted: s.converted }],
    };
  });
}

/** The values of one column over several batches, joined. */
export function joinColumn(parts: Column[]): Column {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  if (Array.isArray(first)) return ([] as string[]).concat(...(parts as string[][]));
  if (first instanceof Float64Array || first instanceof BigUint64Array) {
    const Typed = first instanceof Float64Array ? Float64Array : BigUint64Array;
    const out = new Typed(parts.reduce((n, p) => n + (p as Float64Array).length, 0));
    let at = 0;
    for (const p of parts as Float64Array[]) { (out as Float64Array).set(p, at); at += p.length; }
    return out;
  }
  if (isByteColumn(first)) {
    return { ...first, bytes: Buffer.concat(parts.map((p) => (p as typeof first).bytes)) };
  }
  const lists = parts as NumberList[];
  const out = new Float64Array(lists.reduce((n, p) => n + p.values.length, 0));
  let at = 0;
  for (const p of lists) { out.set(p.values, at); at += p.values.length; }
  return { n: first.n, values: out };
}

/** Rows [from, to) of a column as a page body (levels, then PLAIN values); returns the value count. */
export function encodePage(spec: ColumnSpec, column: Column, from: number, to: number, out: ByteBuilder): number {
  if (Array.isArray(column)) {
    for (let r = from; r < to; r++) out.string32(column[r]);
    return to - from;
  }
  if (column instanceof Float64Array) {
    encodeNumbers(spec, column, from, to, out);
    return to - from;
  }
  if (column instanceof BigUint64Array) {
    for (let r = from; r < to; r++) out.bigint64(column[r]);
    return to - from;
  }
  if (isByteColumn(column)) {
    const w = rowBytes(column);
    const items = column.items ?? 1;
    if (column.items !== undefined) {
      repetitionLevels(to - from, items, out);
      definitionLevels((to - from) * items, out);
    }
    out.bytes(column.bytes.subarray(from * w, to * w));
    return (to - from) * items;
  }
  const n = column.n;
  const count = (to - from) * n;
  repetitionLevels(to - from, n, out);
  definitionLevels(count, out);
  for (let i = from * n; i < to * n; i++) out.int64(column.values[i]);
  return count;
}

function encodeNumbers(spec: ColumnSpec, values: ArrayLike<number>, from: number, to: number, out: ByteBuilder): void {
  if (spec.physical === PhysicalType.DOUBLE) for (let r = from; r < to; r++) out.float64(values[r]);
  else if (spec.physical === PhysicalType.INT64) for (let r = from; r < to; r++) out.int64(values[r]);
  else if (spec.field.type === 'int8') for (let r = from; r < to; r++) out.int32(values[r]);
  else for (let r = from; r < to; r++) out.uint32(values[r]);
}

/** Each row's list starts a record (level 0), its other n-1 elements continue it (level 1):
 * one bit-packed run of width 1, preceded by its byte length as v1 pages require. */
function repetitionLevels(rows: number, n: number, out: ByteBuilder): void {
  const count = rows * n;
  const groups = Math.ceil(count / 8);
  const run = new ByteBuilder(groups + 8);
  run.varint(groups * 2 + 1);
  let byte = 0;
  let bit = 0;
  for (let i = 0; i < count; i++) {
    if (i % n !== 0) byte |= 1 << bit;
    if (++bit === 8) { run.byte(byte); byte = 0; bit = 0; }
  }
  if (bit) run.byte(byte);
  out.uint32(run.length);
  out.bytes(run.view());
}

/** Every element is present (lists are never empty or null): one RLE run of 1s. */
function definitionLevels(count: number, out: ByteBuilder): void {
  const run = new ByteBuilder(16);
  run.varint(count * 2);
  run.byte(1);
  out.uint32(run.length);
  out.bytes(run.view());
}
