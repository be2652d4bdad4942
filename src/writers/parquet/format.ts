/**
 * Parquet's file structures (parquet.thrift), as flowseek writes them: a flat schema of required
 * columns and three-level LIST groups, each annotated with its LogicalType (and the older
 * ConvertedType); v1 data pages, PLAIN or dictionary indices, with statistics; dictionary pages;
 * the page index (column and offset indexes) after the row groups.
 */
import { T, CompactWriter } from './thrift';

export const MAGIC = Buffer.from('PAR1', 'ascii');

export const PhysicalType = { INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
export const ConvertedType = {
  UTF8: 0, LIST: 3, TIMESTAMP_MILLIS: 9, TIMESTAMP_MICROS: 10, UINT_8: 11, UINT_16: 12, UINT_32: 13, UINT_64: 14,
  INT_8: 15, INT_16: 16, INT_32: 17, INT_64: 18,
} as const;
export const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
export const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;
export const BoundaryOrder = { UNORDERED: 0, ASCENDING: 1, DESCENDING: 2 } as const;
export const Codec = { none: 0, snappy: 1, gzip: 2, zstd: 6 } as const;
export type CodecName = keyof typeof Codec;

export type TimeUnit = 'ms' | 'us' | 'ns';
/** A column's LogicalType: how readers should see its physical values. */
export type Logical =
  | { kind: 'string' }
  | { kind: 'list' }
  | { kind: 'int'; bits: 8 | 16 | 32 | 64; signed: boolean }
  | { kind: 'timestamp'; unit: TimeUnit };

export interface SchemaNode {
  name: string;
  type?: number;
  /** FIXED_LEN_BYTE_ARRAY's length */
  typeLength?: number;
  repetition: number;
  children?: number;
  converted?: number;
  logical?: Logical;
}

/** min and max already in their PLAIN bytes (without a length for byte arrays); absent when a
 * value was too long to be worth keeping. */
export interface Stats {
  min?: Buffer;
  max?: Buffer;
  nulls: number;
}

export interface ColumnChunkMeta {
  type: number;
  path: string[];
  codec: number;
  encodings: number[];
  numValues: number;
  uncompressed: number;
  compressed: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  stats: Stats;
  /** data pages per encoding, and the dictionary page */
  encodingStats: { page: number; encoding: number; count: number }[];
  columnIndex?: { offset: number; length: number };
  offsetIndex?: { offset: number; length: number };
}

export interface RowGroupMeta {
  columns: ColumnChunkMeta[];
  numRows: number;
  fileOffset: number;
}

function statistics(w: CompactWriter, id: number, s: Stats): void {
  w.struct(id);
  // max_value (5) and min_value (6): ordered as the column's logical type sorts (column_orders)
  w.i64(3, s.nulls);
  if (s.max && s.min) w.binary(5, s.max).binary(6, s.min);
  w.end();
}

/** A v1 data page's header: `encoding` for the values, RLE/bit-packed levels, the page's statistics. */
export function pageHeader(uncompressed: number, compressed: number, numValues: number, encoding: number, stats?: Stats): Buffer {
  const w = new CompactWriter().begin();
  w.i32(1, PageType.DATA_PAGE).i32(2, uncompressed).i32(3, compressed);
  w.struct(5).i32(1, numValues).i32(2, encoding).i32(3, Encoding.RLE).i32(4, Encoding.RLE);
  if (stats) statistics(w, 5, stats);
  w.end();
  w.end();
  return Buffer.from(w.out.view());
}

/** A dictionary page's header: `entries` PLAIN values. */
export function dictionaryPageHeader(uncompressed: number, compressed: number, entries: number): Buffer {
  const w = new CompactWriter().begin();
  w.i32(1, PageType.DICTIONARY_PAGE).i32(2, uncompressed).i32(3, compressed);
  w.struct(7).i32(1, entries).i32(2, Encoding.PLAIN).end();
  w.end();
  return Buffer.from(w.out.view());
}

/** ColumnIndex: each data page's min and max (every page has them, or no index is written). */
export function columnIndex(pages: Stats[], boundary: number): Buffer {
  const w = new CompactWriter().begin();
  w.boolList(1, pages.map(() => false));
  w.binaryList(2, pages.map((p) => p.min as Buffer));
  w.binaryList(3, pages.map((p) => p.max as Buffer));
  w.i32(4, boundary);
  w.i64List(5, pages.map((p) => p.nulls));
  w.end();
  return Buffer.from(w.out.view());
}

export interface PageLocation { offset: number; size: number; firstRow: number }

/** OffsetIndex: where each data page starts, its size with header, and its first row. */
export function offsetIndex(pages: PageLocation[]): Buffer {
  const w = new CompactWriter().begin();
  w.list(1, T.STRUCT, pages.length);
  for (const p of pages) w.begin().i64(1, p.offset).i32(2, p.size).i64(3, p.firstRow).end();
  w.end();
  return Buffer.from(w.out.view());
}

const UNIT_FIELD: Record<TimeUnit, number> = { ms: 1, us: 2, ns: 3 };

function logicalType(w: CompactWriter, l: Logical): void {
  w.struct(10);
  switch (l.kind) {
    case 'string': w.empty(1); break;
    case 'list': w.empty(3); break;
    case 'timestamp': w.struct(8).bool(1, true).struct(2).empty(UNIT_FIELD[l.unit]).end().end(); break;
    case 'int': w.struct(10).i8(1, l.bits).bool(2, l.signed).end(); break;
  }
  w.end();
}

export function fileMetadata(schema: SchemaNode[], groups: RowGroupMeta[], keyValues: [string, string][], createdBy: string): Buffer {
  const w = new CompactWriter().begin();
  w.i32(1, 1);
  w.list(2, T.STRUCT, schema.length);
  for (const s of schema) {
    w.begin();
    if (s.type !== undefined) w.i32(1, s.type);
    if (s.typeLength !== undefined) w.i32(2, s.typeLength);
    w.i32(3, s.repetition).string(4, s.name);
    if (s.children !== undefined) w.i32(5, s.children);
    if (s.converted !== undefined) w.i32(6, s.converted);
    if (s.logical) logicalType(w, s.logical);
    w.end();
  }
  w.i64(3, groups.reduce((n, g) => n + g.numRows, 0));
  w.list(4, T.STRUCT, groups.length);
  groups.forEach((g, ordinal) => {
    w.begin();
    w.list(1, T.STRUCT, g.columns.length);
    for (const c of g.columns) {
      w.begin().i64(2, c.dictionaryPageOffset ?? c.dataPageOffset).struct(3);
      w.i32(1, c.type).i32List(2, c.encodings).stringList(3, c.path).i32(4, c.codec)
        .i64(5, c.numValues).i64(6, c.uncompressed).i64(7, c.compressed).i64(9, c.dataPageOffset);
      if (c.dictionaryPageOffset !== undefined) w.i64(11, c.dictionaryPageOffset);
      statistics(w, 12, c.stats);
      w.list(13, T.STRUCT, c.encodingStats.length);
      for (const e of c.encodingStats) w.begin().i32(1, e.page).i32(2, e.encoding).i32(3, e.count).end();
      w.end();
      if (c.offsetIndex) w.i64(4, c.offsetIndex.offset).i32(5, c.offsetIndex.length);
      if (c.columnIndex) w.i64(6, c.columnIndex.offset).i32(7, c.columnIndex.length);
      w.end();
    }
    w.i64(2, g.columns.reduce((n, c) => n + c.uncompressed, 0)).i64(3, g.numRows);
    w.i64(5, g.fileOffset).i64(6, g.columns.reduce((n, c) => n + c.compressed, 0)).i16(7, ordinal);
    w.end();
  });
  w.list(5, T.STRUCT, keyValues.length);
  for (const [k, v] of keyValues) w.begin().string(1, k).string(2, v).end();
  w.string(6, createdBy);
  // column_orders: min_value/max_value follow each column's type (unsigned for UINT_*, bytes for text)
  const leaves = schema.filter((s) => s.type !== undefined).length;
  w.list(7, T.STRUCT, leaves);
  for (let i = 0; i < leaves; i++) w.begin().empty(1).end();
  w.end();
  return Buffer.from(w.out.view());
}
