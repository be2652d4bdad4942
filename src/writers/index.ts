/** Writers by format name. */
import { OutputFormat } from '../options';
import { csvWriter } from './csv';
import { jsonlWriter } from './jsonl';
import { WriterFactory } from './writer';

export const WRITERS: Record<OutputFormat, WriterFactory> = {
  csv: csvWriter,
  jsonl: jsonlWriter,
};

export { Sink } from './sink';
export type { FlowWriter } from './writer';
