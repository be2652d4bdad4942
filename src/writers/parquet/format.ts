/**
 * Parquet's file structures (parquet.thrift), as flowseek writes them: a flat schema of
 * required columns and three-level LIST groups (of INT64 or FIXED_LEN_BYTE_ARRAY), PLAIN data pages (v1), no dictionary pages.
 */
import { T, CompactWriter } from './thrift';

export const MAGIC = Buffer.from('PAR1', 'ascii');

export const PhysicalType = { INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
export const ConvertedType = { UTF8: 0, LIST: 3, UINT_8: 11, UINT_16: 12, UINT_32: 13, INT_8: 15 } as const;
export const Encoding = { PLAIN: 0, RLE: 3 } as const;
export const Codec = { none: 0, snappy: 1, gzip: 2, zstd: 6 } as const;
export type CodecName = keyof typeof Codec;

export interface SchemaNode {
  name: string;
  type?: number;
  /** FIXED_LEN_BYTE_ARRAY's length */
  typeLength?: number;
  repetition: number;
  children?: number;
  converted?: number;
}

export interface ColumnChunkMeta {
  type: number;
  path: string[];
  codec: number;
  numValues: number;
  uncompressed: number;
  compressed: number;
  dataPageOffset: number;
}

export interface RowGroupMeta {
  columns: ColumnChunkMeta[];
  numRows: number;
  fileOffset: number;
}

/** A v1 data page's header: PLAIN values, RLE/bit-packed levels (when the column has any). */
export function pageHeader(uncompressed: number, compressed: number, numValues: number): Buffer {
  const w = new CompactWriter().begin();
  w.i32(1, 0 /* DATA_PAGE */).i32(2, uncompressed).i32(3, compressed);
  w.struct(5).i32(1, numValues).i32(2, Encoding.PLAIN).i32(3, Encoding.RLE).i32(4, Encoding.RLE).end();
  w.end();
  return Buffer.from(w.out.view());
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
    w.end();
  }
  w.i64(3, groups.reduce((n, g) => n + g.numRows, 0));
  w.list(4, T.STRUCT, groups.length);
  for (const g of groups) {
    w.begin();
    w.list(1, T.STRUCT, g.columns.length);
    for (const c of g.columns) {
      w.begin().i64(2, c.dataPageOffset).struct(3);
      w.i32(1, c.type).i32List(2, [Encoding.PLAIN, Encoding.RLE]).stringList(3, c.path).i32(4, c.codec)
        .i64(5, c.numValues).i64(6, c.uncompressed).i64(7, c.compressed).i64(9, c.dataPageOffset);
      w.end().end();
    }
    w.i64(2, g.columns.reduce((n, c) => n + c.uncompressed, 0)).i64(3, g.numRows);
    w.i64(5, g.fileOffset).i64(6, g.columns.reduce((n, c) => n + c.compressed, 0));
    w.end();
  }
  w.list(5, T.STRUCT, keyValues.length);
  for (const [k, v] of keyValues) w.begin().string(1, k).string(2, v).end();
  w.string(6, createdBy);
  w.end();
  return Buffer.from(w.out.view());
}
