/**
 * One column's chunk of the current row group, encoded as rows arrive: values go into a page
 * (PLAIN, or dictionary indices for text), a full page is compressed at once, so a row group costs
 * its compressed size in memory, not its values. Each page keeps its min and max (the chunk's
 * statistics and the page index). Text starts dictionary-encoded and falls back to PLAIN for the
 * rest of the chunk once the dictionary passes DICTIONARY_BYTES.
 */
import { Column, isByteColumn } from '../../flow-batch';
import { ByteBuilder } from '../bytes';
import { ColumnSpec } from './columns';
import {
  ColumnChunkMeta, dictionaryPageHeader, Encoding, PageLocation, PageType, pageHeader, PhysicalType, Stats,
} from './format';
import { bitWidth, rleHybrid } from './rle';

const PAGE_BYTES = 1 << 20;
/** rows per page at most (parquet-mr's default): pages small enough for the page index to skip */
const PAGE_ROWS = 20_000;
/** past this, a chunk's dictionary stops growing and its text goes PLAIN (Arrow's default limit) */
const DICTIONARY_BYTES = 1 << 20;
/** min or max longer than this: no statistics for that page (and so none for its chunk) */
const MAX_STAT_BYTES = 128;

type Bound = number | bigint | string | Buffer;

/** Text in UTF-8 byte order (Parquet's order for strings): UTF-16 order but for surrogates, which
 * encode code points above every other unit. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x < 0xe000 ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

export interface ChunkOutput {
  meta: ColumnChunkMeta;
  /** each data page's statistics, when every page has a min and max */
  pageStats?: Stats[];
  pages: PageLocation[];
}

export class ChunkWriter {
  private readonly page = new ByteBuilder(1 << 12);
  private readonly levels = new ByteBuilder(64);
  private readonly pageRowLimit: number;
  private pageRows = 0;
  private pageValues = 0;
  private lo?: Bound;
  private hi?: Bound;
  /** the chunk so far: compressed pages with their headers */
  private parts: Buffer[] = [];
  private locations: PageLocation[] = [];
  private pageStats: Stats[] = [];
  private rows = 0;
  private values = 0;
  private uncompressed = 0;
  private compressed = 0;
  private plainPages = 0;
  private dictPages = 0;
  private chunkLo?: Bound;
  private chunkHi?: Bound;
  private statsLost = false;
  /** text only: the chunk's dictionary, the page's indices, and the page each entry was last seen in */
  private dict?: Map<string, number>;
  private dictPage = new ByteBuilder(1 << 12);
  /** entries in dictPage (kept when the map is dropped at a fallback) */
  private dictCount = 0;
  private indices = new Uint32Array(1024);
  private seenIn = new Int32Array(1024);
  private pageNo = 0;
  /** the last chunk fell back to PLAIN: start the next one PLAIN */
  private highCardinality = false;

  constructor(readonly spec: ColumnSpec, private readonly compress: (page: Buffer) => Buffer, private readonly codec: number) {
    this.pageRowLimit = Math.max(1, Math.min(PAGE_ROWS, Math.floor(PAGE_BYTES / spec.rowBytes)));
    this.startChunk();
  }

  private startChunk(): void {
    this.dict = this.spec.physical === PhysicalType.BYTE_ARRAY && !this.highCardinality ? new Map() : undefined;
    this.dictPage.reset();
    this.dictCount = 0;
  }

  /** Rows [from, to) of a batch column. */
  append(column: Column, from: number, to: number): void {
    while (from < to) {
      const end = Math.min(to, from + this.pageRowLimit - this.pageRows);
      this.encode(column, from, end);
      this.pageRows += end - from;
      from = end;
      if (this.pageRows >= this.pageRowLimit) this.finishPage();
    }
  }

  private encode(column: Column, from: number, to: number): void {
    const out = this.page;
    if (Array.isArray(column)) return this.encodeText(column, from, to);
    let lo = this.lo as number;
    let hi = this.hi as number;
    if (lo === undefined) { lo = Infinity; hi = -Infinity; }
    if (column instanceof Float64Array) {
      const physical = this.spec.physical;
      out.numbers(column, from, to, physical === PhysicalType.DOUBLE ? 'f64' : physical === PhysicalType.INT64 ? 'i64'
        : this.spec.field.type === 'int8' ? 'i32' : 'u32');
      // NaN compares false both ways: left out, as Parquet asks
      for (let r = from; r < to; r++) { const v = column[r]; if (v < lo) lo = v; if (v > hi) hi = v; }
      this.lo = lo; this.hi = hi;
      this.pageValues += to - from;
      return;
    }
    if (column instanceof BigUint64Array) {
      let blo = this.lo as bigint | undefined;
      let bhi = this.hi as bigint | undefined;
      for (let r = from; r < to; r++) {
        const v = column[r];
        out.bigint64(v);
        if (blo === undefined || v < blo) blo = v;
        if (bhi === undefined || v > bhi) bhi = v;
      }
      this.lo = blo; this.hi = bhi;
      this.pageValues += to - from;
      return;
    }
    if (isByteColumn(column)) {
      const w = column.width;
      const items = column.items ?? 1;
      const bytes = column.bytes;
      out.bytes(bytes.subarray(from * w * items, to * w * items));
      let blo = this.lo as Buffer | undefined;
      let bhi = this.hi as Buffer | undefined;
      const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let k = from * items; k < to * items; k++) {
        const v = all.subarray(k * w, (k + 1) * w);
        if (blo === undefined || Buffer.compare(v, blo) < 0) blo = v;
        if (bhi === undefined || Buffer.compare(v, bhi) > 0) bhi = v;
      }
      // copies: the batch's memory is not ours to keep
      this.lo = blo && Buffer.from(blo); this.hi = bhi && Buffer.from(bhi);
      this.pageValues += (to - from) * items;
      return;
    }
    const n = column.n;
    const values = column.values;
    if (values instanceof Float64Array) out.numbers(values, from * n, to * n, 'i64');
    else for (let i = from * n; i < to * n; i++) out.int64(values[i]);
    for (let i = from * n; i < to * n; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.lo = lo; this.hi = hi;
    this.pageValues += (to - from) * n;
  }

  private encodeText(column: string[], from: number, to: number): void {
    let lo = this.lo as string | undefined;
    let hi = this.hi as string | undefined;
    for (let r = from; r < to; r++) {
      const s = column[r];
      const dict = this.dict;
      if (dict) {
        let i = dict.get(s);
        if (i === undefined) {
          i = dict.size;
          dict.set(s, i);
          this.dictCount++;
          this.dictPage.string32(s);
          if (i >= this.seenIn.length) this.seenIn = grow(this.seenIn, i + 1);
          this.seenIn[i] = -1;
        }
        if (this.pageValues >= this.indices.length) this.indices = grow(this.indices, this.pageValues + 1);
        this.indices[this.pageValues++] = i;
        if (this.seenIn[i] !== this.pageNo) {
          this.seenIn[i] = this.pageNo;
          if (lo === undefined || compareText(s, lo) < 0) lo = s;
          if (hi === undefined || compareText(s, hi) > 0) hi = s;
        }
        if (this.dictPage.length > DICTIONARY_BYTES) {
          // too many distinct values: what is encoded stays, the rest of the chunk is PLAIN
          this.lo = lo; this.hi = hi;
          this.pageRows += r + 1 - from;
          this.finishPage();
          this.pageRows -= r + 1 - from; // append() adds the whole range
          this.dict = undefined;
          this.highCardinality = true;
          lo = undefined; hi = undefined;
        }
        continue;
      }
      this.page.string32(s);
      this.pageValues++;
      if (lo === undefined || (s !== lo && compareText(s, lo) < 0)) lo = s;
      if (hi === undefined || (s !== hi && compareText(s, hi) > 0)) hi = s;
    }
    this.lo = lo; this.hi = hi;
  }

  private bound(v: Bound): Buffer {
    if (typeof v === 'string') return Buffer.from(v, 'utf8');
    if (Buffer.isBuffer(v)) return v;
    const b = new ByteBuilder(8);
    if (typeof v === 'bigint') b.bigint64(v);
    else if (this.spec.physical === PhysicalType.DOUBLE) b.float64(v);
    else if (this.spec.physical === PhysicalType.INT64) b.int64(v);
    else if (this.spec.field.type === 'int8') b.int32(v);
    else b.uint32(v);
    return Buffer.from(b.view());
  }

  private pageStatistics(): Stats {
    let lo = this.lo;
    let hi = this.hi;
    if (typeof lo === 'number' && lo === Infinity) return { nulls: 0 }; // only NaN
    if (lo === undefined || hi === undefined) return { nulls: 0 };
    // a zero bound is -0 as a min and +0 as a max, so either zero in the data is inside
    if (this.spec.physical === PhysicalType.DOUBLE) {
      if (lo === 0) lo = -0;
      if (hi === 0) hi = 0;
    }
    const min = this.bound(lo);
    const max = this.bound(hi);
    if (min.length > MAX_STAT_BYTES || max.length > MAX_STAT_BYTES) return { nulls: 0 };
    return { min, max, nulls: 0 };
  }

  private mergeBounds(): void {
    const lo = this.lo;
    const hi = this.hi;
    if (lo === undefined || hi === undefined || (typeof lo === 'number' && lo === Infinity)) return;
    const less = (a: Bound, b: Bound) => (typeof a === 'string' ? compareText(a, b as string) < 0
      : Buffer.isBuffer(a) ? Buffer.compare(a, b as Buffer) < 0 : (a as number) < (b as number));
    if (this.chunkLo === undefined || less(lo, this.chunkLo)) this.chunkLo = lo;
    if (this.chunkHi === undefined || less(this.chunkHi, hi)) this.chunkHi = hi;
  }

  private finishPage(): void {
    if (this.pageRows === 0) return;
    const stats = this.pageStatistics();
    if (!stats.min) this.statsLost = true;
    this.mergeBounds();
    let body: Buffer;
    let encoding: number;
    if (this.dict) {
      this.page.reset();
      const width = bitWidth(Math.max(0, this.dict.size - 1));
      this.page.byte(width);
      rleHybrid(this.indices, this.pageValues, width, this.page);
      body = this.page.view();
      encoding = Encoding.RLE_DICTIONARY;
      this.dictPages++;
    } else {
      body = this.page.view();
      encoding = Encoding.PLAIN;
      this.plainPages++;
    }
    const spec = this.spec;
    if (spec.path.length > 1) {
      this.levels.reset();
      const perRow = this.pageValues / this.pageRows;
      repetitionLevels(this.pageRows, perRow, this.levels);
      definitionLevels(this.pageValues, this.levels);
      body = Buffer.concat([this.levels.view(), body]);
    }
    const packed = this.compress(body);
    const header = pageHeader(body.length, packed.length, this.pageValues, encoding, stats);
    this.locations.push({ offset: this.compressed, size: header.length + packed.length, firstRow: this.rows });
    this.pageStats.push(stats);
    this.parts.push(header, packed);
    this.uncompressed += header.length + body.length;
    this.compressed += header.length + packed.length;
    this.rows += this.pageRows;
    this.values += this.pageValues;
    this.page.reset();
    this.pageRows = 0;
    this.pageValues = 0;
    this.pageNo++;
    this.lo = undefined;
    this.hi = undefined;
  }

  /** Writes the chunk (dictionary page first) at `offset` through `put`; the writer is then ready for the next row group. */
  async flush(offset: number, put: (b: Buffer) => Promise<void>): Promise<ChunkOutput> {
    this.finishPage();
    const parts = this.parts;
    let start = offset;
    let dictionaryPageOffset: number | undefined;
    const encodingStats: ColumnChunkMeta['encodingStats'] = [];
    const encodings: number[] = [];
    if (this.dictPages > 0) {
      const entries = this.dictPage.view();
      const packed = this.compress(entries);
      const count = this.dictCount;
      const header = dictionaryPageHeader(entries.length, packed.length, count);
      await put(header);
      await put(packed);
      dictionaryPageOffset = offset;
      start = offset + header.length + packed.length;
      this.uncompressed += header.length + entries.length;
      this.compressed += header.length + packed.length;
      encodingStats.push({ page: PageType.DICTIONARY_PAGE, encoding: Encoding.PLAIN, count: 1 });
      encodingStats.push({ page: PageType.DATA_PAGE, encoding: Encoding.RLE_DICTIONARY, count: this.dictPages });
      encodings.push(Encoding.RLE_DICTIONARY);
    }
    if (this.plainPages > 0) encodingStats.push({ page: PageType.DATA_PAGE, encoding: Encoding.PLAIN, count: this.plainPages });
    encodings.push(Encoding.PLAIN, Encoding.RLE);
    for (const p of parts) await put(p);
    const stats: Stats = { nulls: 0 };
    if (!this.statsLost && this.chunkLo !== undefined && this.chunkHi !== undefined) {
      let lo = this.chunkLo;
      if (this.spec.physical === PhysicalType.DOUBLE && lo === 0) lo = -0;
      stats.min = this.bound(lo);
      stats.max = this.bound(this.chunkHi);
    }
    const out: ChunkOutput = {
      meta: {
        type: this.spec.physical, path: this.spec.path, codec: this.codec, encodings, numValues: this.values,
        uncompressed: this.uncompressed, compressed: this.compressed, dataPageOffset: start, dictionaryPageOffset, stats, encodingStats,
      },
      pageStats: this.statsLost ? undefined : this.pageStats,
      pages: this.locations.map((p) => ({ ...p, offset: start + p.offset })),
    };
    this.parts = [];
    this.locations = [];
    this.pageStats = [];
    this.rows = this.values = this.uncompressed = this.compressed = this.plainPages = this.dictPages = 0;
    this.chunkLo = this.chunkHi = undefined;
    this.statsLost = false;
    this.startChunk();
    return out;
  }
}

function grow<T extends Uint32Array | Int32Array>(a: T, need: number): T {
  let size = a.length * 2;
  while (size < need) size *= 2;
  const next = new (a.constructor as new (n: number) => T)(size);
  next.set(a);
  return next;
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
