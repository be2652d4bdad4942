/** What a worker process and the parent say to each other over the IPC channel (advanced
 * serialization: a batch travels as its typed-array columns, one message per batch). */
import { NativeStats, NativeTextPlan } from '../native';
import { Field } from '../schema';
import { Column } from '../flow-batch';
import { StreamerOptions } from '../streamer';

/** text: the worker sends its flows as rows made in C, each without its id (the parent numbers
 * them), not as batches */
export type ToWorker = { t: 'start'; options: StreamerOptions; text?: NativeTextPlan } | { t: 'stop' };

export type FromWorker =
  /** udps: the plugins' columns, which follow the schema's in columns */
  /** peakRssKb: the worker's peak resident memory so far, for the run's summary */
  | { t: 'batch'; length: number; columns: Column[]; udps: Field[]; stats: NativeStats; peakRssKb: number }
  /** the rows of a batch, each without its id; ends: where each row ends in bytes */
  | { t: 'text'; length: number; bytes: Uint8Array; ends: Uint32Array; stats: NativeStats; peakRssKb: number }
  /** system visibility: keys of flows just begun (the meter's newFlowKeys), sent at once */
  | { t: 'newFlows'; keys: Uint8Array }
  /** what plugins emitted (PluginContext.emit), sent as made */
  | { t: 'records'; records: Record<string, unknown>[] }
  /** the meter is open (on an interface: its socket takes packets) */
  | { t: 'ready' }
  | { t: 'done'; stats: NativeStats; peakRssKb: number }
  | { t: 'error'; message: string; code: string; exitCode: number };
