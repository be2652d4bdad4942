/**
 * Output bytes made where the flows are (a lane's thread), and the one file they go to. A lane
 * encodes each batch as the writer of its format would (the same functions: csvRows, jsonlRows,
 * ArrowEncoder, RowGroupEncoder); the file's side only puts the parts in id order, adds what comes
 * once per file (CSV header, Arrow schema and footer, Parquet magic, page index and footer) and
 * writes. The bytes are those of one writer given the same batches.
 */
import { loadNative } from '../native';
import { OutputFormat } from '../options';
import { Field } from '../schema';
import { FlowBatch } from '../flow-batch';
import { ArrowEncoder, ArrowFile } from './arrow';
import { ByteBuilder } from './bytes';
import { csvHeader, csvRows } from './csv';
import { jsonlKeys, jsonlRows } from './jsonl';
import { EncodedGroup, ParquetFile, RowGroupEncoder } from './parquet/writer';
import { Sink } from './sink';
import { WriterOptions } from './writer';

/** One batch's bytes (Parquet: none, its rows go to row groups), for ids [first, first + flows). */
export interface EncodedPart {
  first: number;
  flows: number;
  bytes: Uint8Array[];
  /** Arrow: the record batch's framed metadata is bytes[0]; its body is the rest */
  bodyLength?: number;
  /** each of bytes is the whole of its own ArrayBuffer, used by nothing else: its memory is given
   * back as soon as it is written (text made in C: few JavaScript objects are made meanwhile, so the
   * garbage collector runs seldom, and the dead rows piled up by the tens of megabytes) */
  owned?: boolean;
}

/** A lane's side. */
export interface LaneEncoder {
  batch(b: FlowBatch): Promise<{ bytes: Uint8Array[]; bodyLength?: number }>;
  /** Parquet: the row groups complete so far (with end, the last one too) */
  groups(end: boolean): Promise<EncodedGroup[]>;
}

export function laneEncoder(format: OutputFormat, fields: readonly Field[], options: WriterOptions): LaneEncoder {
  const none = async () => [];
  switch (format) {
    case 'csv': case 'jsonl': {
      const keys = format === 'jsonl' ? jsonlKeys(fields) : [];
      const out = new ByteBuilder(1 << 20);
      return {
        async batch(b) {
          out.reset();
          if (format === 'csv') csvRows(b, out); else jsonlRows(keys, b, out);
          return { bytes: [Buffer.from(out.view())] };
        },
        groups: none,
      };
    }
    case 'arrow': {
      const encoder = new ArrowEncoder(fields);
      return {
        async batch(b) {
          const m = encoder.recordBatch(b);
          return { bytes: [m.meta, ...m.parts], bodyLength: m.bodyLength };
        },
        groups: none,
      };
    }
    case 'parquet': {
      const encoder = new RowGroupEncoder(fields, options);
      return {
        async batch(b) {
          await encoder.append(b);
          return { bytes: [] };
        },
        groups: (end) => encoder.take(end),
      };
    }
  }
}

/** The file's side: parts written in the order of their ids, row groups as they come. */
export interface PartWriter {
  part(p: EncodedPart): Promise<void>;
  group(g: EncodedGroup): Promise<void>;
  close(): Promise<void>;
}

export function partWriter(format: OutputFormat, fields: readonly Field[], sink: Sink, options: WriterOptions): PartWriter {
  const refuse = async () => { throw new Error(`a ${format} file takes no row groups`); };
  switch (format) {
    case 'csv': case 'jsonl': {
      let started = format === 'jsonl';
      const start = async () => { if (!started) await sink.write(csvHeader(fields)); started = true; };
      return {
        async part(p) {
          await start();
          for (const b of p.bytes) await sink.write(b, p.owned ? () => loadNative().release(b) : undefined);
        },
        group: refuse,
        async close() {
          await start();
          await sink.close();
        },
      };
    }
    case 'arrow': {
      const file = new ArrowFile(fields, sink);
      return {
        async part(p) {
          if (p.bytes.length) await file.message({ meta: p.bytes[0], parts: p.bytes.slice(1), bodyLength: p.bodyLength ?? 0 });
        },
        group: refuse,
        close: () => file.close(),
      };
    }
    case 'parquet': {
      const file = new ParquetFile(fields, sink, options);
      return {
        async part() { /* rows arrive in row groups */ },
        group: (g) => file.group(g),
        close: () => file.close(),
      };
    }
  }
}
