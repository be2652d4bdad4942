/** A writer turns batches of flows into bytes for a sink: one call per batch, one to finish. */
import { Field } from '../schema';
import { FlowBatch } from '../streamer';
import { Sink } from './sink';

export interface FlowWriter {
  write(batch: FlowBatch): Promise<void>;
  close(): Promise<void>;
}

export type WriterFactory = (fields: readonly Field[], sink: Sink) => FlowWriter;
