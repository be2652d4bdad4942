/** The programmatic API: `for await (const flow of new FlowStreamer({...}))`. */
import './node-free';
import { FlowStreamer as Streamer, StreamerInput } from './streamer';
import { checkStreamerInput } from './streamer-input';

/** The streamer a program makes: what it is given is checked first (a misspelt option or a wrong
 * type is a UsageError naming it, not a default standing in silently). */
export class FlowStreamer extends Streamer {
  constructor(options: StreamerInput) {
    super(checkStreamerInput(options));
  }
}
export { FlowBatch } from './flow-batch';
export type { StreamerOptions, StreamerInput } from './streamer';
export type { Column } from './flow-batch';
export { FIELDS, fieldsFor } from './schema';
export type { Field, FieldType, FieldGroup } from './schema';
export { parseMeterOptions, parseReadOptions } from './options';
export type { MeterOptions, ReadOptions, AccountingMode, OutputFormat } from './options';
export { FlowseekError, UsageError, InputError, OutputError } from './errors';
export { WRITERS, Sink } from './writers';
export { exportFlows, toCsv, toJsonl, toParquet } from './api';
export type { ExportOptions } from './api';
export { WorkerPool } from './workers/pool';
export type { CaptureOptions, OutputOptions, Compression } from './options';
export { definePlugin } from './plugins/api';
export type { PluginDefinition, PluginPacket, PluginFlow, ExpiredFlow, PluginContext, ColumnType } from './plugins/api';
