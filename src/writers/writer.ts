/** A writer turns batches of flows into bytes for a sink: one call per batch, one to finish. */
import { Field } from '../schema';
import { FlowBatch } from '../flow-batch';
import { Sink } from './sink';
import type { CodecName } from './parquet/format';

export interface FlowWriter {
  write(batch: FlowBatch): Promise<void>;
  /** Writes what is held (a Parquet footer) and closes the sink. */
  close(): Promise<void>;
}

export interface WriterOptions {
  /** Parquet page compression (default zstd) */
  compression?: CodecName;
  /** Parquet rows per row group (default: sized to about 32 MB of values) */
  rowGroupRows?: number;
  /** length of the list columns (SPLT's N), to size Parquet pages */
  listLength?: number;
}

export type WriterFactory = (fields: readonly Field[], sink: Sink, options?: WriterOptions) => FlowWriter;
