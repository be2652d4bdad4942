/**
 * Runs the native meter over capture files and yields finished flows in columnar batches.
 * The next batch is computed on a pool thread while the caller handles the current one.
 */
import * as fs from 'node:fs';
import { InputError } from './errors';
import { loadNative, NativeBatch, NativeMeter, NativeStats } from './native';
import { MeterOptions } from './options';
import { Field, fieldsFor } from './schema';

export type Column = Float64Array | string[] | { n: number; values: ArrayLike<number> };

/** A batch of flows: one column per field, in the fields' order. */
export class FlowBatch {
  constructor(readonly fields: readonly Field[], readonly columns: readonly Column[], readonly length: number) {}

  /** The value of field i in row r: number, string, or number[] for list fields. */
  value(i: number, r: number): number | string | number[] {
    const c = this.columns[i];
    if (Array.isArray(c)) return c[r];
    if (c instanceof Float64Array) return c[r];
    const out = new Array<number>(c.n);
    for (let k = 0; k < c.n; k++) out[k] = c.values[r * c.n + k];
    return out;
  }

  /** Rows [from, to) as a batch sharing this one's memory. */
  slice(from: number, to: number): FlowBatch {
    if (from === 0 && to === this.length) return this;
    const columns = this.columns.map((c): Column => {
      if (Array.isArray(c)) return c.slice(from, to);
      if (c instanceof Float64Array) return c.subarray(from, to);
      return { n: c.n, values: Array.prototype.slice.call(c.values, from * c.n, to * c.n) as number[] };
    });
    return new FlowBatch(this.fields, columns, to - from);
  }

  /** The given rows, in the given order, as a new batch. */
  pick(rows: readonly number[]): FlowBatch {
    const columns = this.columns.map((c): Column => {
      if (Array.isArray(c)) return rows.map((r) => c[r]);
      if (c instanceof Float64Array) return Float64Array.from(rows, (r) => c[r]);
      const values = new Float64Array(rows.length * c.n);
      rows.forEach((r, k) => { for (let j = 0; j < c.n; j++) values[k * c.n + j] = c.values[r * c.n + j]; });
      return { n: c.n, values };
    });
    return new FlowBatch(this.fields, columns, rows.length);
  }

  /** A copy with some columns replaced (same length). */
  withColumns(replace: ReadonlyMap<number, Column>): FlowBatch {
    return new FlowBatch(this.fields, this.columns.map((c, i) => replace.get(i) ?? c), this.length);
  }

  /** Row r as a plain object keyed by field name. */
  row(r: number): Record<string, number | string | number[]> {
    const o: Record<string, number | string | number[]> = {};
    for (let i = 0; i < this.fields.length; i++) o[this.fields[i].name] = this.value(i, r);
    return o;
  }
}

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
  /** files: a batch, full or not, at least this often (for a progress display) */
  yieldMs?: number;
  batchSize?: number;
}

export class FlowStreamer {
  readonly fields: Field[];
  private meter?: NativeMeter;
  private finalStats?: NativeStats;
  private latest?: NativeStats;

  constructor(private readonly options: StreamerOptions) {
    this.fields = fieldsFor(options);
  }

  /** Opens the captures (checks each one) or the interface, and starts the meter. */
  open(): void {
    const o = this.options;
    for (const file of o.files ?? []) {
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        throw new InputError(`${file}: no such file`);
      }
      if (st.isDirectory()) throw new InputError(`${file}: is a directory, not a capture file`);
    }
    try {
      this.meter = loadNative().open({
        files: o.files ?? [], interface: o.interface, promisc: o.promisc, bufferBytes: o.bufferBytes, fanoutGroup: o.fanoutGroup,
        partitions: o.hashPartitions, partition: o.hashPartition, yieldMs: o.yieldMs,
        idleTimeoutMs: o.idleTimeoutMs, activeTimeoutMs: o.activeTimeoutMs, maxFlows: o.maxFlows, maxActiveFlows: o.maxActiveFlows,
        decodeTunnels: o.decodeTunnels, accounting: o.accountingMode, stats: o.stats, splt: o.splt, dissections: o.dissections,
        snaplen: o.snaplen, bpf: o.bpf,
      });
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code === 'FS_OPEN') throw new InputError(err.message, { cause: e });
      throw e;
    }
  }

  /** Opens and closes a meter with these options: a missing file, an interface that cannot be
   * captured or a bad filter fails here, with its message, before worker processes start. */
  static check(options: StreamerOptions): void {
    const probe = new FlowStreamer(options);
    probe.open();
    probe.close();
  }

  /** Ask the meter to end early: open flows are still flushed and yielded. */
  stop(): void {
    this.meter?.stop();
  }

  /** The counters at the end of the run (or now, between runs of next()). */
  stats(): NativeStats | undefined {
    return this.finalStats ?? (this.meter ? this.meter.stats() : undefined);
  }

  /** For reports: the counters as of the last batch. */
  counters(): { total?: NativeStats } {
    return { total: this.progress() };
  }

  /** The counters as of the last batch: safe while the next batch is being made. */
  progress(): NativeStats | undefined {
    return this.finalStats ?? this.latest;
  }

  async *batches(): AsyncGenerator<FlowBatch> {
    if (!this.meter) this.open();
    const meter = this.meter as NativeMeter;
    const size = this.options.batchSize ?? 4096;
    const columnIndex = buildColumnIndex(this.fields);
    let pending: Promise<NativeBatch | null> | undefined = meter.next(size);
    try {
      for (;;) {
        const nb: NativeBatch | null = await pending;
        pending = undefined;
        if (!nb) break;
        pending = meter.next(size);
        this.latest = nb.counters;
        yield toBatch(this.fields, columnIndex, nb);
      }
    } finally {
      if (pending) {
        // the consumer left early: end the run, let the pending batch settle, then free the meter
        meter.stop();
        await pending.catch(() => null);
      }
      this.close();
    }
  }

  /** Flow objects, one at a time (the programmatic API). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Record<string, number | string | number[]>> {
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

function buildColumnIndex(fields: readonly Field[]): number[] {
  const names = loadNative().columns();
  return fields.map((f) => {
    if (f.source === 'base') return names.base.indexOf(f.name);
    if (f.source === 'stats') return names.stats.indexOf(f.name);
    return -1;
  });
}

function toBatch(fields: readonly Field[], index: number[], nb: NativeBatch): FlowBatch {
  const n = nb.length;
  const columns = fields.map((f, i): Column => {
    switch (f.source) {
      case 'base': return nb.base.subarray(index[i] * n, (index[i] + 1) * n);
      case 'stats': return (nb.stats as Float64Array).subarray(index[i] * n, (index[i] + 1) * n);
      case 'string': return nb.strings[f.name];
      case 'splt': {
        const s = nb.splt as NonNullable<NativeBatch['splt']>;
        const values = f.name === 'splt_direction' ? s.direction : f.name === 'splt_ps' ? s.ps : s.piat_ms;
        return { n: s.n, values };
      }
      case 'system': throw new Error('system columns are added by SystemVisibility, not the meter');
    }
  });
  return new FlowBatch(fields, columns, n);
}
