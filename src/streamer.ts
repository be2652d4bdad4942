/**
 * Runs the native meter over capture files and yields finished flows in columnar batches.
 * The next batch is computed on a pool thread while the caller handles the current one.
 */
import * as fs from 'node:fs';
import { InputError } from './errors';
import { systemErrorWords } from './system-errors';
import { loadNative, NativeBatch, NativeMeter, NativeOpenOptions, NativeStats, NativeTextPart, NativeTextPlan } from './native';
import { nativeMeterOptions } from './native-options';
import { numberDefault } from './option-table';
import { MeterOptions, OutputFormat, parseMeterOptions } from './options';
import { PluginHost } from './plugins/host';
import { loadPlugin } from './plugins/load';
import { Column, FlowBatch, FlowValue } from './flow-batch';
import { Field, fieldsFor } from './schema';
import { EncodedPart } from './writers/encoded';
import { WriterOptions } from './writers/writer';
import { nextPart, textPlan } from './writers/text-plan';

export interface StreamerOptions extends MeterOptions {
  /** capture files, read in order; or */
  files?: string[];
  /** a live interface */
  interface?: string;
  promisc?: boolean;
  bufferBytes?: number;
  /** live: this meter's PACKET_FANOUT group (0: none) */
  fanoutGroup?: number;
  /** files: this meter keeps the flows whose host-pair hash % partitions == partition */
  hashPartitions?: number;
  hashPartition?: number;
  /** never set for a meter: the parent adds those columns (SystemVisibility) */
  systemVisibility?: false;
  /** files: a batch, full or not, at least this often (for a progress display); live: this often */
  yieldMs?: number;
  /** live, system visibility: each batch hands the keys of flows begun since the last to onNewFlows */
  reportNewFlows?: boolean;
  batchSize?: number;
}

/** What a program gives a FlowStreamer: the meter's options may be left out, the command line's
 * defaults standing for them. */
export type StreamerInput = Omit<StreamerOptions, keyof MeterOptions> & Partial<MeterOptions>;

export interface PluginSpec { spec: string; options: Record<string, unknown> }

/** A live meter hands over a batch at least this often, so flows and counters come on a quiet link */
const LIVE_BATCH_MS = 1000;

/** What only an input's look at its path says; the rest is the table's (src/system-errors.ts). */
const STAT_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file', EACCES: 'permission denied (a folder on its path cannot be looked into)',
};

/** Checks the files exist and are not folders, then opens; the addon's open failure becomes an
 * InputError with its message. "-" is standard input, which one meter reads once. */
export function openNative<T>(open: () => T, files: string[] | undefined, partitioned = false): T {
  const stdin = (files ?? []).filter((f) => f === '-').length;
  if (stdin > 1) throw new InputError('-: standard input can be read once only, and is given more than once');
  if (stdin && partitioned) throw new InputError('-: standard input can be read by one meter only: not with worker processes (--plugin with --workers)');
  for (const file of files ?? []) {
    if (file === '-') continue;
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      // a loop of links, a folder closed to this user, a file where a folder should be: each said
      throw new InputError(`${file}: ${systemErrorWords(e, STAT_WORDS)}`, { cause: e });
    }
    if (st.isDirectory()) throw new InputError(`${file}: is a directory, not a capture file`);
    if (partitioned && st.isFIFO()) throw new InputError(`${file}: a FIFO can be read by one meter only: not with worker processes (--plugin with --workers)`);
  }
  try {
    return open();
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'FS_OPEN') throw new InputError(err.message, { cause: e });
    throw e;
  }
}

export class FlowStreamer {
  private readonly baseFields: Field[];
  private host?: PluginHost;
  private readonly pluginWarnings: string[] = [];
  private meter?: NativeMeter;
  private finalStats?: NativeStats;
  private latest?: NativeStats;
  private killed = false;
  /** Without plugins, CSV and JSON Lines rows are made in C on the thread the meter runs on
   * (src/writers/text-plan.ts): the parts come in id order. Undefined for other formats, or where
   * plugins add columns: batches() then. */
  parts(format: OutputFormat, _writer: WriterOptions, maxFlows: number): AsyncGenerator<{ part: EncodedPart }> | undefined {
    const plan = this.host || this.options.plugins?.length ? undefined : textPlan(format, this.baseFields, maxFlows);
    return plan && this.textParts(plan);
  }

  private async *textParts(plan: NativeTextPlan): AsyncGenerator<{ part: EncodedPart }> {
    for await (const p of this.textRows(plan)) yield { part: { first: p.first, flows: p.length, bytes: [p.bytes], owned: true } };
  }

  /** The flows as text rows made in C after each step (no plugins: the caller checks); parts with
   * no flow are left out unless `empty` (a worker process's parent has its counters from them
   * alone), each part's counters kept for progress(). */
  async *textRows(plan: NativeTextPlan, empty = false): AsyncGenerator<NativeTextPart> {
    if (!this.meter) this.open();
    const meter = this.meter as NativeMeter;
    meter.textOutput({ ...plan, lendBuffers: true }); // the parts are written, or sent to the parent, from this thread
    const size = this.options.batchSize ?? numberDefault('--batch-size');
    let pending = nextPart(meter, size) as ReturnType<typeof nextPart> | undefined;
    try {
      for (;;) {
        const p = await pending;
        pending = undefined;
        if (!p || this.killed) break;
        this.latest = p.counters;
        pending = nextPart(meter, size);
        if (p.length || empty) yield p;
      }
    } finally {
      if (pending) {
        this.meter?.stop();
        await pending.catch(() => null);
      }
      this.close();
    }
  }

  /** Plugins: which flows the meter holds to one packet per batch, so that a hook's end is exact:
   * none (fast), those on the declared endsFlowsOnPorts, or all. */
  private exact: 'fast' | 'ports' | 'all' = 'fast';
  /** whether the meter was opened holding flows (see exact) */
  private openedExact = false;
  /** reportNewFlows: called with each batch's new flow keys, before its flows are yielded */
  onNewFlows?: (keys: Buffer) => void;
  /** what plugins emitted (the model plugin's early predictions), after each batch */
  onPluginRecords?: (records: Record<string, unknown>[]) => void;

  private readonly options: StreamerOptions;

  constructor(options: StreamerInput) {
    // the command line's defaults under what is given (an option given as undefined stays default)
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...parseMeterOptions({}), ...given };
    this.baseFields = fieldsFor(this.options);
  }

  /** The columns: the schema's, then the plugins' udps columns known so far. */
  get fields(): Field[] {
    return this.host ? [...this.baseFields, ...this.host.udpsFields()] : this.baseFields;
  }

  /** Loads the plugins (an .mjs plugin loads asynchronously); batches() does it when needed. */
  async loadPlugins(): Promise<void> {
    const specs = this.options.plugins ?? [];
    if (this.host || !specs.length) return;
    const defs = [];
    for (const s of specs) defs.push({ def: await loadPlugin(s.spec), options: s.options });
    this.host = new PluginHost(defs, { failFast: this.options.pluginErrors === 'fail', warn: (m) => this.pluginWarnings.push(m), hookTimeoutMs: this.options.pluginTimeoutMs });
    await this.host.start();
    // a plugin declaring endsFlows starts exact; any other starts fast and turns exact at its first end
    this.setExact(this.host.endsFlows ? (this.host.endPorts ? 'ports' : 'all') : 'fast');
  }

  /** Opens the captures (checks each one) or the interface, and starts the meter. */
  open(): void {
    this.meter = openNative(() => loadNative().open(this.nativeOptions()), this.options.files, this.options.hashPartitions !== undefined);
    this.openedExact = this.exact !== 'fast';
    // a stop asked for while the plugins loaded (a worker told to stop as it started) holds
    if (this.stopAsked) this.meter.stop();
  }

  /** The addon's options (it rejects any it does not know, or a bad value, naming it). */
  nativeOptions(): NativeOpenOptions {
    const o = this.options;
    return {
      ...nativeMeterOptions(o) as Omit<NativeOpenOptions, 'files'>,
      files: o.interface === undefined ? o.files ?? [] : undefined, interface: o.interface, fanoutGroup: o.fanoutGroup,
      partitions: o.hashPartitions, partition: o.hashPartition, yieldMs: o.yieldMs ?? (o.interface === undefined ? undefined : LIVE_BATCH_MS),
      packetEvents: this.host ? this.host.wantsPackets : Boolean(o.plugins?.length),
      reportNewFlows: o.reportNewFlows,
      eventsOnePerFlow: this.exact !== 'fast', endPorts: this.exact === 'ports' ? this.host?.endPorts : undefined,
    };
  }

  /** Opens and closes a meter with these options: a missing file, an interface that cannot be
   * captured or a bad filter fails here, with its message, before worker processes start (which
   * cannot share standard input). */
  static check(options: StreamerOptions): void {
    const probe = new FlowStreamer(options);
    probe.meter = openNative(() => loadNative().open(probe.nativeOptions()), options.files, true);
    probe.close();
  }

  /** Loads the plugins once to report a plugin that does not load, before workers start. */
  static async checkPlugins(options: StreamerOptions): Promise<void> {
    await new FlowStreamer(options).loadPlugins();
  }

  /** a stop asked for before the meter opened: the meter stops as it opens */
  private stopAsked = false;

  /** Ask the meter to end early: open flows are still flushed and yielded. */
  stop(): void {
    this.stopAsked = true;
    this.meter?.stop();
  }

  /** Ends the run at once (a second interrupt): open flows are not flushed, no batch is
   * yielded after the one being made. */
  kill(): void {
    this.killed = true;
    this.stopAsked = true;
    this.meter?.stop();
  }

  /** The counters at the end of the run (or now, between runs of next()). */
  stats(): NativeStats | undefined {
    return this.withPluginWarnings(this.finalStats ?? (this.meter ? this.meter.stats() : undefined));
  }

  /** Hook failures (a count each) and late udps columns join the meter's warnings. */
  private withPluginWarnings(s: NativeStats | undefined): NativeStats | undefined {
    if (!s || !this.host) return s;
    const failures = this.host.hookFailures.map((f) =>
      `plugin ${f.plugin}: ${f.hook} threw ${f.count} time${f.count === 1 ? '' : 's'}; the first: ${f.first}`);
    return { ...s, warnings: [s.warnings, ...failures, ...this.pluginWarnings].filter(Boolean).join('\n') };
  }

  /** For reports: the counters as of the last batch. */
  counters(): { total?: NativeStats } {
    return { total: this.progress() };
  }

  /** The counters as of the last batch: safe while the next batch is being made. */
  progress(): NativeStats | undefined {
    return this.withPluginWarnings(this.finalStats ?? this.latest);
  }

  async *batches(): AsyncGenerator<FlowBatch> {
    await this.loadPlugins();
    if (!this.meter) this.open();
    let meter = this.meter as NativeMeter;
    const size = this.options.batchSize ?? numberDefault('--batch-size');
    const columnIndex = buildColumnIndex(this.baseFields);
    const host = this.host;
    // a capture worker opens its meter before it loads plugins (it drops its privileges in
    // between): a plugin that declares its ends turns the meter exact from the first packet
    const lateExact = this.exact !== 'fast' && !this.openedExact;
    if (lateExact) this.setExact('all');
    let pending: Promise<NativeBatch | null> | undefined = meter.next(size, undefined, lateExact || undefined);
    // plugins: flows yielded so far, and how many of a re-reading's first flows were yielded already
    let yielded = 0, skip = 0, goExact = false;
    try {
      for (;;) {
        const nb: NativeBatch | null = await pending;
        pending = undefined;
        if (!nb || this.killed) break;
        this.latest = nb.counters;
        if (nb.newFlowKeys) this.onNewFlows?.(nb.newFlowKeys);
        if (!host) {
          pending = meter.next(size);
          yield toBatch(this.baseFields, columnIndex, nb);
          continue;
        }
        // plugins: the hooks run before the meter goes on, so the flows they end end now
        if (nb.events) host.packets(nb.events);
        if (host.inexactEnd && this.exact !== 'all') {
          if (this.canReread()) {
            // Files: start over holding every flow to one packet per batch. No hook ended a flow
            // before this batch, so the flows yielded so far are the exact run's first ones.
            this.reopenExact();
            meter = this.meter as NativeMeter;
            host.restart();
            skip = yielded;
            pending = meter.next(size);
            continue;
          }
          // live (or a stream that cannot be read again): exact from here on; ends in this batch
          // take effect after it, as before
          this.setExact('all');
          host.inexactEnd = false;
          goExact = true;
          this.pluginWarnings.push('a plugin ended a flow: from then on each flow\'s packets reached the plugins one batch at a time (exact ends); ends before that took effect at the end of their batch');
        }
        // no packet events (no plugin wants packets): no uids either, each flow new to the plugins
        let uids = nb.uids ?? new Float64Array(nb.length).fill(-1);
        let batch = toBatch(this.baseFields, columnIndex, nb);
        if (skip > 0) {
          const n = Math.min(skip, batch.length);
          host.forget(uids.subarray(0, n));
          batch = batch.slice(n, batch.length);
          uids = uids.subarray(n);
          skip -= n;
        }
        batch = await host.finish(batch, uids);
        const records = host.takeRecords();
        if (records.length) this.onPluginRecords?.(records);
        pending = meter.next(size, host.takeExpired(), goExact || undefined);
        goExact = false;
        if (batch.length) {
          yielded += batch.length;
          yield batch;
        }
      }
      host?.cleanup();
    } finally {
      if (pending) {
        // the consumer left early: end the run, let the pending batch settle, then free the meter
        this.meter?.stop();
        await pending.catch(() => null);
      }
      this.close();
    }
  }

  /** Plugins: which flows the meter holds to one packet per batch, and so whose ends are exact. */
  private setExact(mode: 'fast' | 'ports' | 'all'): void {
    this.exact = mode;
    const host = this.host as PluginHost;
    const ports = new Set(mode === 'ports' ? host.endPorts : []);
    host.exactFor = mode === 'all' ? () => true : (f) => ports.has(f.src_port) || ports.has(f.dst_port);
  }

  /** Files: the meter of a fast run is dropped for a new one in exact mode, from the start. */
  /** Files can be read again from the start; an interface, standard input or a FIFO cannot. */
  private canReread(): boolean {
    if (this.options.interface) return false;
    return (this.options.files ?? []).every((f) => {
      if (f === '-') return false;
      try { return fs.statSync(f).isFile(); } catch { return false; }
    });
  }

  private reopenExact(): void {
    this.meter?.close();
    this.meter = undefined;
    this.setExact('all');
    this.open();
  }

  /** Flow objects, one at a time (the programmatic API). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Record<string, FlowValue>> {
    for await (const b of this.batches()) for (let r = 0; r < b.length; r++) yield b.row(r);
  }

  /** False before open() and once the run ended or the consumer left: the native meter is freed. */
  get isOpen(): boolean {
    return this.meter !== undefined;
  }

  close(): void {
    if (!this.meter) return;
    this.finalStats = this.meter.stats();
    this.meter.close();
    this.meter = undefined;
  }
}

export function buildColumnIndex(fields: readonly Field[]): number[] {
  const names = loadNative().columns();
  return fields.map((f) => {
    if (f.source === 'base') return names.base.indexOf(f.name);
    if (f.source === 'stats') return names.stats.indexOf(f.name);
    if (f.source === 'activity') return names.activity.indexOf(f.name);
    if (f.source === 'fine') return FINE_ORDER.indexOf(f.name.replace(/_(us|ns)$/, ''));
    return -1;
  });
}

/** The SPLT columns, in the order of the native batch's splt arrays (direction, ps, piat_ms). */
export const SPLT_COLUMNS = ['splt_direction', 'splt_ps', 'splt_piat_ms'];

/** The native fineTime block's column order. */
const FINE_ORDER = ['bidirectional', 'src2dst', 'dst2src'].flatMap((s) => [`${s}_first_seen`, `${s}_last_seen`, `${s}_duration`]);

/** Address columns come as one string with "\n" between the values (see batch.c). */
function strings(v: string[] | string, n: number): string[] {
  if (typeof v !== 'string') return v;
  return n === 0 ? [] : v.split('\n');
}

export function toBatch(fields: readonly Field[], index: number[], nb: NativeBatch): FlowBatch {
  const n = nb.length;
  const columns = fields.map((f, i): Column => {
    switch (f.source) {
      case 'base': return nb.base.subarray(index[i] * n, (index[i] + 1) * n);
      case 'stats': return (nb.stats as Float64Array).subarray(index[i] * n, (index[i] + 1) * n);
      case 'string': return strings(nb.strings[f.name], n);
      case 'splt': {
        const s = nb.splt as NonNullable<NativeBatch['splt']>;
        const values = [s.direction, s.ps, s.piat_ms][SPLT_COLUMNS.indexOf(f.name)];
        return { n: s.n, values };
      }
      case 'activity': return (nb.activity as Float64Array).subarray(index[i] * n, (index[i] + 1) * n);
      case 'fine': return (nb.fineTime as BigUint64Array).subarray(index[i] * n, (index[i] + 1) * n);
      case 'payload': {
        const p = nb.payload as NonNullable<NativeBatch['payload']>;
        return f.type === 'bytes' ? { width: p.width, bytes: p.bytes } : p.len;
      }
      case 'header': {
        const h = nb.header as NonNullable<NativeBatch['header']>;
        return f.type === 'list<bytes>' ? { width: h.width, items: h.n, bytes: h.bytes } : h.count;
      }
      case 'system': throw new Error('system columns are added by SystemVisibility, not the meter');
      case 'udps': throw new Error('udps columns are added by the plugin host, not the meter');
    }
  });
  return new FlowBatch(fields, columns, n);
}
