/**
 * Whole-run helpers for programs (NFStream's to_csv / to_pandas): flows from a FlowStreamer
 * written to one file in a format, with the same writers, atomic files and anonymisation as the CLI.
 */
import { Anonymizer } from './anonymize';
import { UsageError } from './errors';
import { anonymizableColumns, COMPRESSIONS, Compression, formatFromPath, OutputFormat } from './options';
import { FlowStreamer } from './streamer';
import { FlowOutput } from './writers/output';

export interface ExportOptions {
  compression?: Compression;
  /** text columns to replace with a keyed hash */
  anonymize?: string[];
  anonymizeKey?: string;
}

/** Writes every flow of the streamer to `path`; resolves with the number of flows written. */
export async function exportFlows(streamer: FlowStreamer, path: string, format?: OutputFormat, o: ExportOptions = {}): Promise<number> {
  const fmt = format ?? formatFromPath(path) ?? 'csv';
  // checked as the CLI checks them: a column not anonymised was written as it is, silently
  const anonymize = anonymizableColumns(o.anonymize ?? [], streamer.fields, 'anonymize');
  if (o.compression !== undefined && !(COMPRESSIONS as readonly string[]).includes(o.compression)) {
    throw new UsageError(`compression must be ${COMPRESSIONS.join(', ')}, got "${String(o.compression)}"`);
  }
  const output = new FlowOutput(streamer.fields, {
    output: path, format: fmt, compression: o.compression ?? 'zstd', flowsPerFile: 0, rotateMs: 0,
    anonymize, anonymizeKey: o.anonymizeKey, rowGroupRows: 0,
  }, 0);
  const anonymizer = anonymize.length ? new Anonymizer(anonymize, o.anonymizeKey) : undefined;
  let n = 0;
  try {
    for await (const b of streamer.batches()) {
      await output.write(anonymizer ? anonymizer.apply(b) : b);
      n += b.length;
    }
    await output.close();
  } catch (e) {
    output.discard();
    throw e;
  }
  return n;
}

export const toCsv = (s: FlowStreamer, path: string, o?: ExportOptions) => exportFlows(s, path, 'csv', o);
export const toJsonl = (s: FlowStreamer, path: string, o?: ExportOptions) => exportFlows(s, path, 'jsonl', o);
export const toParquet = (s: FlowStreamer, path: string, o?: ExportOptions) => exportFlows(s, path, 'parquet', o);
