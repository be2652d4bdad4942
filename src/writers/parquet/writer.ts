/**
 * Parquet: typed, compressed columns. Flows are held until a row group is full (sized so a row
 * group stays near 32 MB of values), then each column is written as ~1 MB pages; the footer is
 * written by close(), which every exit path calls.
 */
import * as zlib from 'node:zlib';
import { loadNative } from '../../native';
import { Field } from '../../schema';
import { Column, FlowBatch } from '../../streamer';
import { Sink } from '../sink';
import { FlowWriter, WriterOptions } from '../writer';
import { ByteBuilder } from '../bytes';
import { columnSpecs, ColumnSpec, encodePage, joinColumn } from './columns';
import { Codec, CodecName, ColumnChunkMeta, fileMetadata, MAGIC, pageHeader, Repetition, RowGroupMeta, SchemaNode } from './format';

const PAGE_BYTES = 1 << 20;
export const ROW_GROUP_BYTES = 32 << 20;
export const MAX_ROW_GROUP_ROWS = 1 << 16;

const VERSION: string = require('../../../../package.json').version;

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
  const rowBytes = specs.reduce((n, s) => n + s.rowBytes, 0);
  const groupRows = options.rowGroupRows ?? Math.max(1, Math.min(MAX_ROW_GROUP_ROWS, Math.floor(ROW_GROUP_BYTES / rowBytes)));
  const schema: SchemaNode[] = [
    { name: 'schema', repetition: Repetition.REQUIRED, children: specs.length },
    ...specs.flatMap((s) => s.nodes),
  ];
  const groups: RowGroupMeta[] = [];
  const page = new ByteBuilder(PAGE_BYTES * 2);
  let pending: FlowBatch[] = [];
  let pendingRows = 0;
  let offset = 0;
  let started = false;

  async function put(bytes: Uint8Array): Promise<void> {
    await sink.write(bytes);
    offset += bytes.length;
  }

  async function writeColumn(spec: ColumnSpec, column: Column, rows: number): Promise<ColumnChunkMeta> {
    const meta: ColumnChunkMeta = {
      type: spec.physical, path: spec.path, codec: Codec[codec], numValues: 0, uncompressed: 0, compressed: 0, dataPageOffset: offset,
    };
    const pageRows = Math.max(1, Math.floor(PAGE_BYTES / spec.rowBytes));
    for (let from = 0; from < rows; from += pageRows) {
      page.reset();
      const values = encodePage(spec, column, from, Math.min(rows, from + pageRows), page);
      const body = compress(page.view());
      const header = pageHeader(page.length, body.length, values);
      await put(header);
      await put(body);
      meta.numValues += values;
      meta.uncompressed += header.length + page.length;
      meta.compressed += header.length + body.length;
    }
    return meta;
  }

  async function flush(): Promise<void> {
    if (!started) { await put(MAGIC); started = true; }
    if (pendingRows === 0) return;
    const batches = pending;
    const rows = pendingRows;
    pending = [];
    pendingRows = 0;
    const group: RowGroupMeta = { columns: [], numRows: rows, fileOffset: offset };
    for (let i = 0; i < specs.length; i++) {
      group.columns.push(await writeColumn(specs[i], joinColumn(batches.map((b) => b.columns[i])), rows));
    }
    groups.push(group);
  }

  return {
    async write(batch: FlowBatch) {
      // row groups of exactly groupRows flows (the last one fewer)
      for (let from = 0; from < batch.length;) {
        const to = Math.min(batch.length, from + groupRows - pendingRows);
        pending.push(batch.slice(from, to));
        pendingRows += to - from;
        from = to;
        if (pendingRows >= groupRows) await flush();
      }
    },
    async close() {
      await flush();
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
