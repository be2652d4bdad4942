/**
 * Parquet: typed, compressed columns with statistics. Each column is encoded page by page as flows
 * arrive (chunk.ts); a row group of `rowGroupRows` flows is then written column after column, and
 * close(), which every exit path calls, writes the page index and the footer. Encoding
 * (RowGroupEncoder) and the file (ParquetFile) are apart: lanes encode their groups on their own
 * threads (src/workers/lane-thread.ts).
 */
import * as zlib from 'node:zlib';
import { loadNative } from '../../native';
import { numberDefault } from '../../option-table';
import { Field } from '../../schema';
import { FlowBatch } from '../../flow-batch';
import { breath } from '../breath';
import { Sink } from '../sink';
import { FlowWriter, WriterOptions } from '../writer';
import { ChunkOutput, ChunkWriter } from './chunk';
import { columnSpecs } from './columns';
import { BoundaryOrder, Codec, CodecName, columnIndex, fileMetadata, MAGIC, offsetIndex, Repetition, RowGroupMeta, SchemaNode, Stats } from './format';

/** flows per row group unless --row-group-size says otherwise (src/option-table.ts) */
export const DEFAULT_ROW_GROUP_ROWS = numberDefault('--row-group-size');

const VERSION = (require('../../../../package.json') as { version: string }).version;

function compressor(codec: CodecName): (page: Buffer) => Buffer {
  switch (codec) {
    case 'none': return (page) => Buffer.from(page); // the page builder is reused: keep a copy
    case 'gzip': return (page) => zlib.gzipSync(page, { level: 6 });
    case 'zstd': case 'snappy': {
      const native = loadNative();
      return (page) => native.compress(codec, page);
    }
  }
}

/** A row group encoded apart from its file (a lane's thread): its bytes, with offsets counted
 * from the group's first byte; the file's writer moves them to where the group lands. */
export interface EncodedGroup {
  bytes: Uint8Array[];
  length: number;
  meta: RowGroupMeta;
  outputs: ChunkOutput[];
}

/** Flows into row groups of exactly `rowGroupRows` (the last one fewer), each encoded column
 * after column with its page index entries. */
export class RowGroupEncoder {
  private readonly chunks: ChunkWriter[];
  private rows = 0;
  private readonly groupRows: number;
  /** groups complete but not yet taken */
  private ready: EncodedGroup[] = [];

  constructor(fields: readonly Field[], options: WriterOptions = {}) {
    const codec = options.compression ?? 'zstd';
    const compress = compressor(codec);
    this.chunks = columnSpecs(fields, options.listLength ?? 1).map((s) => new ChunkWriter(s, compress, Codec[codec]));
    this.groupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  }

  async append(batch: FlowBatch): Promise<void> {
    for (let from = 0; from < batch.length;) {
      const to = Math.min(batch.length, from + this.groupRows - this.rows);
      for (const chunk of this.chunks) {
        chunk.append(batch.columns[chunk.spec.source], from, to);
        const pause = breath();
        if (pause) await pause;
      }
      this.rows += to - from;
      from = to;
      if (this.rows >= this.groupRows) await this.flush();
    }
  }

  /** The groups completed since the last call; with end, the last (short) one too. */
  async take(end = false): Promise<EncodedGroup[]> {
    if (end) await this.flush();
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  private async flush(): Promise<void> {
    if (this.rows === 0) return;
    const bytes: Uint8Array[] = [];
    let length = 0;
    const put = async (b: Uint8Array) => { bytes.push(b); length += b.length; };
    const meta: RowGroupMeta = { columns: [], numRows: this.rows, fileOffset: 0 };
    const outputs: ChunkOutput[] = [];
    for (const chunk of this.chunks) {
      const out = await chunk.flush(length, put);
      const pause = breath();
      if (pause) await pause;
      meta.columns.push(out.meta);
      outputs.push(out);
    }
    this.ready.push({ bytes, length, meta, outputs });
    this.rows = 0;
  }
}

/** A group encoded elsewhere, as it lands at `at` in the file. Bounds that crossed a thread arrive
 * as plain Uint8Arrays: they become Buffers again. */
function placed(g: EncodedGroup, at: number): EncodedGroup {
  const buf = (b?: Uint8Array) => (b === undefined || Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const stats = (s: Stats): Stats => ({ ...s, min: buf(s.min), max: buf(s.max) });
  return {
    ...g,
    meta: {
      ...g.meta,
      fileOffset: g.meta.fileOffset + at,
      columns: g.meta.columns.map((c) => ({
        ...c, stats: stats(c.stats), dataPageOffset: c.dataPageOffset + at,
        dictionaryPageOffset: c.dictionaryPageOffset === undefined ? undefined : c.dictionaryPageOffset + at,
      })),
    },
    outputs: g.outputs.map((o) => ({
      ...o, pageStats: o.pageStats?.map(stats), pages: o.pages.map((p) => ({ ...p, offset: p.offset + at })),
    })),
  };
}

/** The file: magic, row groups as they come (encoded here or on lanes' threads), the page index,
 * the footer. */
export class ParquetFile {
  private readonly schema: SchemaNode[];
  private readonly groups: RowGroupMeta[] = [];
  /** per row group, per column: what the page index needs */
  private readonly indexes: ChunkOutput[][] = [];
  private offset = 0;
  private started = false;

  constructor(private readonly fields: readonly Field[], private readonly sink: Sink, options: WriterOptions = {}) {
    const specs = columnSpecs(fields, options.listLength ?? 1);
    this.schema = [{ name: 'schema', repetition: Repetition.REQUIRED, children: specs.length }, ...specs.flatMap((s) => s.nodes)];
  }

  private async put(bytes: Uint8Array): Promise<void> {
    await this.sink.write(bytes);
    this.offset += bytes.length;
  }

  private async start(): Promise<void> {
    if (!this.started) await this.put(MAGIC);
    this.started = true;
  }

  async group(encoded: EncodedGroup): Promise<void> {
    await this.start();
    const g = placed(encoded, this.offset);
    for (const b of g.bytes) await this.put(b);
    this.groups.push(g.meta);
    this.indexes.push(g.outputs);
  }

  /** The page index, for chunks of more than one page (where a reader can skip some): all column
   * indexes, then all offset indexes, as the format lays them out. */
  private async writePageIndex(): Promise<void> {
    const { groups, indexes } = this;
    for (let g = 0; g < groups.length; g++) {
      for (let c = 0; c < indexes[g].length; c++) {
        const out = indexes[g][c];
        if (out.pages.length < 2 || !out.pageStats) continue;
        const b = columnIndex(out.pageStats, BoundaryOrder.UNORDERED);
        groups[g].columns[c].columnIndex = { offset: this.offset, length: b.length };
        await this.put(b);
      }
    }
    for (let g = 0; g < groups.length; g++) {
      for (let c = 0; c < indexes[g].length; c++) {
        const out = indexes[g][c];
        if (out.pages.length < 2) continue;
        const b = offsetIndex(out.pages);
        groups[g].columns[c].offsetIndex = { offset: this.offset, length: b.length };
        await this.put(b);
      }
    }
  }

  async close(): Promise<void> {
    await this.start();
    await this.writePageIndex();
    const footer = fileMetadata(this.schema, this.groups, [['flowseek.fields', JSON.stringify(this.fields.map((f) => f.name))]],
      `flowseek version ${VERSION}`);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(footer.length, 0);
    MAGIC.copy(tail, 4);
    await this.put(footer);
    await this.put(tail);
    await this.sink.close();
  }
}

export function parquetWriter(fields: readonly Field[], sink: Sink, options: WriterOptions = {}): FlowWriter {
  const encoder = new RowGroupEncoder(fields, options);
  const file = new ParquetFile(fields, sink, options);
  return {
    async write(batch: FlowBatch) {
      await encoder.append(batch);
      for (const g of await encoder.take()) await file.group(g);
    },
    async close() {
      for (const g of await encoder.take(true)) await file.group(g);
      await file.close();
    },
  };
}
