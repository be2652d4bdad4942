/** What a worker process and the parent say to each other over the IPC channel (advanced
 * serialization: a batch travels as its typed-array columns, one message per batch). */
import { NativeStats } from '../native';
import { Field } from '../schema';
import { Column } from '../flow-batch';
import { StreamerOptions } from '../streamer';

export type ToWorker = { t: 'start'; options: StreamerOptions } | { t: 'stop' };

export type FromWorker =
  /** udps: the plugins' columns, which follow the schema's in columns */
  /** peakRssKb: the worker's peak resident memory so far, for the run's summary */
  | { t: 'batch'; length: number; columns: Column[]; udps: Field[]; stats: NativeStats; peakRssKb: number }
  /** system visibility: keys of flows just begun (the meter's newFlowKeys), sent at once */
  | { t: 'newFlows'; keys: Uint8Array }
  /** what plugins emitted (PluginContext.emit), sent as made */
  | { t: 'records'; records: Record<string, unknown>[] }
  /** the meter is open (on an interface: its socket takes packets) */
  | { t: 'ready' }
  | { t: 'done'; stats: NativeStats; peakRssKb: number }
  | { t: 'error'; message: string; code: string; exitCode: number };
