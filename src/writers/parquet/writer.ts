/**
 * Parquet: typed, compressed columns with statistics. Each column is encoded page by page as flows
 * arrive (chunk.ts); a row group of `rowGroupRows` flows is then written column after column, and
 * close(), which every exit path calls, writes the page index and the footer.
 */
import * as zlib from 'node:zlib';
import { loadNative } from '../../native';
import { numberDefault } from '../../option-table';
import { Field } from '../../schema';
import { FlowBatch } from '../../flow-batch';
import { Sink } from '../sink';
import { FlowWriter, WriterOptions } from '../writer';
import { ChunkOutput, ChunkWriter } from './chunk';
import { columnSpecs } from './columns';
import { BoundaryOrder, Codec, CodecName, columnIndex, fileMetadata, MAGIC, offsetIndex, Repetition, RowGroupMeta, SchemaNode } from './format';

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

export function parquetWriter(fields: readonly Field[], sink: Sink, options: WriterOptions = {}): FlowWriter {
  const codec = options.compression ?? 'zstd';
  const compress = compressor(codec);
  const specs = columnSpecs(fields, options.listLength ?? 1);
  const groupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  const schema: SchemaNode[] = [
    { name: 'schema', repetition: Repetition.REQUIRED, children: specs.length },
    ...specs.flatMap((s) => s.nodes),
  ];
  const chunks = specs.map((s) => new ChunkWriter(s, compress, Codec[codec]));
  const groups: RowGroupMeta[] = [];
  /** per row group, per column: what the page index needs */
  const indexes: ChunkOutput[][] = [];
  let rows = 0;
  let offset = 0;
  let started = false;

  async function put(bytes: Uint8Array): Promise<void> {
    await sink.write(bytes);
    offset += bytes.length;
  }

  async function flush(): Promise<void> {
    if (!started) { await put(MAGIC); started = true; }
    if (rows === 0) return;
    const group: RowGroupMeta = { columns: [], numRows: rows, fileOffset: offset };
    const outputs: ChunkOutput[] = [];
    for (const chunk of chunks) {
      const out = await chunk.flush(offset, put);
      group.columns.push(out.meta);
      outputs.push(out);
    }
    groups.push(group);
    indexes.push(outputs);
    rows = 0;
  }

  /** The page index, for chunks of more than one page (where a reader can skip some): all column
   * indexes, then all offset indexes, as the format lays them out. */
  async function writePageIndex(): Promise<void> {
    for (let g = 0; g < groups.length; g++) {
      for (let c = 0; c < chunks.length; c++) {
        const out = indexes[g][c];
        if (out.pages.length < 2 || !out.pageStats) continue;
        const b = columnIndex(out.pageStats, BoundaryOrder.UNORDERED);
        groups[g].columns[c].columnIndex = { offset, length: b.length };
        await put(b);
      }
    }
    for (let g = 0; g < groups.length; g++) {
      for (let c = 0; c < chunks.length; c++) {
        const out = indexes[g][c];
        if (out.pages.length < 2) continue;
        const b = offsetIndex(out.pages);
        groups[g].columns[c].offsetIndex = { offset, length: b.length };
        await put(b);
      }
    }
  }

  return {
    async write(batch: FlowBatch) {
      // row groups of exactly groupRows flows (the last one fewer)
      for (let from = 0; from < batch.length;) {
        const to = Math.min(batch.length, from + groupRows - rows);
        for (const chunk of chunks) chunk.append(batch.columns[chunk.spec.source], from, to);
        rows += to - from;
        from = to;
        if (rows >= groupRows) await flush();
      }
    },
    async close() {
      await flush();
      await writePageIndex();
      const footer = fileMetadata(schema, groups, [['flowseek.fields', JSON.stringify(fields.map((f) => f.name))]],
        `flowseek version ${VERSION}`);
      const tail = Buffer.alloc(8);
      tail.writeUInt32LE(footer.length, 0);
      MAGIC.copy(tail, 4);
      await put(footer);
      await put(tail);
      await sink.close();
    },
  };
}
