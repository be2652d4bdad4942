/** Writers by format name. */
import { OutputFormat } from '../options';
import { arrowWriter } from './arrow';
import { csvWriter } from './csv';
import { jsonlWriter } from './jsonl';
import { parquetWriter } from './parquet/writer';
import { WriterFactory } from './writer';

export const WRITERS: Record<OutputFormat, WriterFactory> = {
  csv: csvWriter,
  jsonl: jsonlWriter,
  parquet: parquetWriter,
  arrow: arrowWriter,
};

export { Sink } from './sink';
export type { FlowWriter, WriterOptions } from './writer';
