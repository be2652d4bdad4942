/**
 * `read --workers N` without plugins: N meters in this process over the files (native/spread.c),
 * each keeping the flows of one host-pair partition. Each lane reads regular files itself and
 * meters its own frames; a FIFO or standard input is read once, by a reader thread that hands each
 * frame to its lane. Where the process has a core to spare for each lane besides a reader and this
 * thread, each lane runs
 * on a worker thread of its own (lane-thread.ts), where its meter runs and its flows become
 * output bytes: this thread only puts the parts in id order and writes them
 * (parts()), or, for a consumer that needs flows (anonymisation, rotation, IPFIX, the API),
 * rebuilds batches from the lanes' columns (batches()). With fewer cores, a thread of its own per
 * lane costs more than it gives (each worker thread is a JavaScript isolate that starts, compiles
 * and collects on its own: measured, bench/RESULTS.md): the lanes' meters then run on libuv's pool
 * and this thread makes their batches, as one meter's would be. FLOWSEEK_LANES=threads or inline
 * chooses. No meter meters frames that are not its own and no flow crosses a process boundary.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { FlowseekError } from '../errors';
import { loadNative, NativeMeter, NativeOpenOptions, NativeSpread, NativeStats, NativeTextPart, NativeTextPlan } from '../native';
import { numberDefault } from '../option-table';
import { OutputFormat } from '../options';
import { Field } from '../schema';
import * as os from 'node:os';
import { FlowBatch } from '../flow-batch';
import { buildColumnIndex, FlowStreamer, openNative, StreamerOptions, toBatch } from '../streamer';
import { EncodedPart } from '../writers/encoded';
import { nextPart, textPlan } from '../writers/text-plan';
import { EncodedGroup } from '../writers/parquet/writer';
import { WriterOptions } from '../writers/writer';
import { DONE_ID, FromLane, KILLED, LaneData, SHARED_SLOTS } from './lane-thread';
import { activeFlowsShare, batchesAhead } from './share';
import { mergeStats } from './stats';

/** What parts() hands over: a batch's bytes in id order, or a row group. */
export type LaneOutput = { part: EncodedPart } | { group: EncodedGroup };

type Item = { flows: number; output?: LaneOutput; batch?: FlowBatch };

export class LaneSet {
  private readonly options: StreamerOptions;
  private spread?: NativeSpread;
  private started = false;
  private readonly shared = new SharedArrayBuffer(8 * SHARED_SLOTS);
  private readonly counts = new BigInt64Array(this.shared);
  private readonly latest: (NativeStats | undefined)[];
  private readonly final: (NativeStats | undefined)[];
  private workers: Worker[] = [];
  private exported = 0;
  readonly fields: readonly Field[];
  private readonly nativeOptions: NativeOpenOptions;
  /** lanes on worker threads of their own (see above); else on libuv's pool, batches made here */
  readonly threads: boolean;
  /** once the run ended: how often the reader waited for a lane's room, and woke to find none */
  readerWaits?: { sleeps: number; needless: number };

  constructor(options: StreamerOptions, readonly size: number, threads = laneThreads(size)) {
    this.threads = threads;
    this.options = { ...options, maxActiveFlows: activeFlowsShare(options.maxActiveFlows, size) };
    const streamer = new FlowStreamer(this.options);
    this.fields = streamer.fields;
    this.nativeOptions = streamer.nativeOptions();
    this.latest = new Array<NativeStats | undefined>(size).fill(undefined);
    this.final = new Array<NativeStats | undefined>(size).fill(undefined);
    // a missing file or a bad filter fails here, before any output is opened
    this.spread = openNative(() => loadNative().openSpread(this.nativeOptions, size), this.options.files);
  }

  /** The flows as batches (ids in the order they were made). */
  async *batches(): AsyncGenerator<FlowBatch> {
    if (!this.threads) { yield* this.inline(); return; }
    for await (const item of this.run(undefined, 0)) if (item.batch) yield item.batch;
  }

  /** The flows as output bytes made where they are metered, parts in id order (ids past maxFlows
   * are not encoded): on the lanes' threads, or, for CSV and JSON Lines, in C after each lane's
   * step on the pool (src/writers/text-plan.ts). Undefined where the lanes run on the pool and
   * the format is not text: batches() then. */
  parts(format: OutputFormat, writer: WriterOptions, maxFlows: number): AsyncGenerator<LaneOutput> | undefined {
    if (this.threads) return this.encoded(format, writer, maxFlows);
    const plan = textPlan(format, this.fields, maxFlows);
    return plan ? this.inlineText(plan) : undefined;
  }

  /** The flows as output bytes, made on the lanes' threads: parts in id order (ids past maxFlows
   * are not encoded), Parquet row groups as they come. */
  private async *encoded(format: OutputFormat, writer: WriterOptions, maxFlows: number): AsyncGenerator<LaneOutput> {
    for await (const item of this.run({ format, writer }, maxFlows)) if (item.output) yield item.output;
  }

  private async *run(encode: LaneData['encode'], maxFlows: number): AsyncGenerator<Item> {
    const spread = this.spread;
    if (!spread || this.started) throw new Error('a LaneSet runs once');
    this.started = true;
    const queue: (Item & { first: number })[] = [];
    const waiting = new Map<number, Item>();
    let next = 0;
    let wake: (() => void) | undefined;
    let failure: FlowseekError | undefined;
    let running = this.size;
    const poke = () => { wake?.(); wake = undefined; };
    const worker = path.join(__dirname, 'lane-thread.js');
    this.workers = Array.from({ length: this.size }, (_, lane) => {
      const data: LaneData = { spread: spread.id, lane, options: this.options, shared: this.shared, encode, maxFlows };
      // the tap loader (or any --require) is not needed by a thread of compiled JavaScript
      const w = new Worker(worker, { workerData: data, execArgv: [], env: process.env });
      let ended = false;
      const end = () => { if (!ended) { ended = true; running--; poke(); } };
      w.on('message', (m: FromLane) => {
        if (m.t === 'part') {
          this.latest[lane] = m.counters;
          if (m.first < 0) return;
          const item: Item = { flows: m.flows };
          // bytes that came through the channel are this thread's alone
          if (m.bytes) item.output = { part: { first: m.first, flows: m.flows, bytes: m.bytes, bodyLength: m.bodyLength, owned: true } };
          if (m.columns) item.batch = new FlowBatch(this.fields, m.columns, m.columns.length ? lengthOf(this.fields, m.columns) : 0);
          waiting.set(m.first, item);
          // parts leave in id order: each id range is one lane's, sent before it takes another
          for (let it = waiting.get(next); it; it = waiting.get(next)) {
            waiting.delete(next);
            queue.push({ ...it, first: next });
            next += it.flows;
          }
        } else if (m.t === 'groups') {
          for (const g of m.groups) queue.push({ flows: 0, first: -1, output: { group: g } });
        } else if (m.t === 'done') {
          this.final[lane] = m.stats;
          end();
        } else {
          failure ??= new FlowseekError(`lane ${lane}: ${m.message}`, m.code ?? 'FS_LANE');
          this.kill();
        }
        poke();
      });
      w.on('error', (e) => { failure ??= new FlowseekError(`lane ${lane}: ${e.message}`, 'FS_LANE'); this.kill(); end(); });
      w.on('exit', end);
      return w;
    });
    try {
      for (;;) {
        const item = queue.shift();
        if (item) {
          yield item;
          this.exported += item.flows;
          // lanes may run ahead of what is written by a few batches at most
          Atomics.store(this.counts, DONE_ID, BigInt(this.exported));
          Atomics.notify(this.counts, DONE_ID);
          continue;
        }
        if (failure) throw failure;
        if (!running) break;
        await new Promise<void>((resolve) => { wake = resolve; });
      }
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- set by the lanes' callbacks; TypeScript narrows it to never after the loop
      if (failure) throw failure;
    } finally {
      // the consumer left, or a lane failed: every lane ends and frees its meter
      if (running) this.kill();
      await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => {
        if (w.threadId < 0) resolve(); else w.once('exit', () => resolve());
      })));
      this.closeSpread(spread);
    }
  }

  /** The lanes on libuv's pool (next() runs a lane's meter there), their batches made here in the
   * order they come, ids numbered as they are yielded. */
  private async *inline(): AsyncGenerator<FlowBatch> {
    const meters = this.openInline();
    const index = buildColumnIndex(this.fields);
    const idColumn = this.fields.findIndex((f) => f.name === 'id');
    const batchSize = this.options.batchSize ?? numberDefault('--batch-size');
    for await (const nb of this.onPool(meters, (m) => m.next(batchSize))) {
      const batch = toBatch(this.fields, index, nb);
      const ids = batch.columns[idColumn] as Float64Array;
      for (let r = 0; r < batch.length; r++) ids[r] = this.exported + r;
      this.exported += batch.length;
      yield batch;
    }
  }

  /** The lanes on libuv's pool, each step's rows made in C there; each part's ids were taken from
   * the spread's counter as it was made, so the parts are put in id order here. */
  private async *inlineText(plan: NativeTextPlan): AsyncGenerator<LaneOutput> {
    const meters = this.openInline();
    meters.forEach((m) => m.textOutput({ ...plan, lendBuffers: true })); // written from this thread
    const batchSize = this.options.batchSize ?? numberDefault('--batch-size');
    const waiting = new Map<number, NativeTextPart>();
    let next = 0;
    for await (const part of this.onPool(meters, (m) => nextPart(m, batchSize))) {
      waiting.set(part.first, part);
      for (let p = waiting.get(next); p; p = waiting.get(next)) {
        waiting.delete(next);
        next += p.length;
        this.exported += p.length;
        yield { part: { first: p.first, flows: p.length, bytes: [p.bytes], owned: true } };
      }
    }
  }

  /** Every lane's steps on libuv's pool, each result with flows as it comes; at the end, or when
   * the consumer leaves or a lane fails, every lane ends and frees its meter. A lane is given its
   * next step as soon as this thread sees one end, not when the consumer asks for more: it meters
   * on while this thread encodes (a Parquet page burst took 0.2-0.5 s, both lanes idle through it:
   * bench/RESULTS.md), up to batchesAhead() results not yet taken. */
  private async *onPool<T extends { length: number; counters: NativeStats }>(meters: NativeMeter[],
    step: (m: NativeMeter) => Promise<T | null>): AsyncGenerator<T> {
    const spread = this.spread as NativeSpread;
    const ahead = batchesAhead(this.options.batchSize ?? numberDefault('--batch-size'));
    const ready: { lane: number; got: T }[] = [];
    const waiting = meters.map(() => 0); // results of each lane in ready
    const running = new Map<number, Promise<void>>();
    const done = meters.map(() => false);
    let failure: { error: unknown } | undefined;
    let leaving = false;
    let wake: (() => void) | undefined;
    const pull = (lane: number) => {
      running.set(lane, step(meters[lane]).then((got) => {
        running.delete(lane);
        if (!got) done[lane] = true;
        else {
          this.latest[lane] = got.counters;
          if (got.length) { ready.push({ lane, got }); waiting[lane]++; }
          if (waiting[lane] < ahead && !leaving && !failure && !this.killed()) pull(lane);
        }
      }, (error: unknown) => {
        running.delete(lane);
        failure ??= { error };
      }).finally(() => { wake?.(); wake = undefined; }));
    };
    meters.forEach((_, lane) => pull(lane));
    try {
      while (!this.killed()) {
        const item = ready.shift();
        if (item) {
          const lane = item.lane;
          // a lane that stopped that far ahead goes on
          if (waiting[lane]-- === ahead && !running.has(lane) && !done[lane] && !failure) pull(lane);
          yield item.got;
          continue;
        }
        if (failure) throw failure.error;
        if (!running.size) break;
        await new Promise<void>((resolve) => { wake = resolve; });
      }
    } finally {
      leaving = true;
      spread.stop();
      await Promise.allSettled(running.values());
      meters.forEach((m, lane) => { this.final[lane] = m.stats(); m.close(); });
      this.closeSpread(spread);
    }
  }

  private killed(): boolean {
    return Atomics.load(this.counts, KILLED) !== 0n;
  }

  /** Every lane has ended: the reader's waits are kept and the spread is let go. */
  private closeSpread(spread: NativeSpread): void {
    this.readerWaits = spread.waits();
    spread.close();
    this.spread = undefined;
  }

  /** Every lane's meter, for a run on the pool. */
  private openInline(): NativeMeter[] {
    const spread = this.spread;
    if (!spread || this.started) throw new Error('a LaneSet runs once');
    this.started = true;
    return loadNative().openLanes(spread.id, this.nativeOptions);
  }

  /** The reader stops; every lane flushes its open flows. */
  stop(): void {
    this.spread?.stop();
  }

  /** Every lane ends at once; open flows are not flushed. */
  kill(): void {
    Atomics.store(this.counts, KILLED, 1n);
    Atomics.notify(this.counts, DONE_ID);
    this.spread?.stop();
  }

  stats(): NativeStats {
    return mergeStats(this.final.map((s, i) => s ?? this.latest[i]), false, this.exported);
  }

  counters(): { total?: NativeStats; perWorker?: (NativeStats | undefined)[] } {
    const each = this.final.map((s, i) => s ?? this.latest[i]);
    return { total: mergeStats(each, false, this.exported), perWorker: each };
  }
}

/** Worker threads for the lanes when the process may use a core for each, one for a reader (a
 * FIFO's; measured when every input had one) and one for this thread (FLOWSEEK_LANES=threads or
 * inline overrides). */
function laneThreads(size: number): boolean {
  const chosen = process.env.FLOWSEEK_LANES;
  if (chosen === 'threads' || chosen === 'inline') return chosen === 'threads';
  return os.availableParallelism() >= size + 2;
}

/** Rows in a batch's columns (the id column is a Float64Array, one value per row). */
function lengthOf(fields: readonly Field[], columns: unknown[]): number {
  return (columns[fields.findIndex((f) => f.name === 'id')] as Float64Array).length;
}
