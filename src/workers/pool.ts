/**
 * Several meters in worker processes, merged: each worker's batches are yielded as they come,
 * with `id` renumbered in arrival order. On an interface the workers form one PACKET_FANOUT
 * group; on files each keeps the flows of one hash partition of the host pairs (every worker
 * reads every packet, so its clock, and so expiry, is a single meter's).
 *
 * A worker that dies (the OOM killer, a crash) is noticed at once by its exit. On an interface
 * the kernel gives its share of the traffic to the others, so the capture goes on and says so;
 * with no worker left, or on files (a partition is lost), the run ends: the others flush their
 * flows first, so every flow received is written, then the run fails.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FlowseekError } from '../errors';
import { systemErrorWords } from '../system-errors';
import { STOP_SIGNALS, stopSignalsSoFar } from '../stop-signals';
import { NativeStats, NativeTextPlan } from '../native';
import { OutputFormat } from '../options';
import { ByteBuilder } from '../writers/bytes';
import { textPlan } from '../writers/text-plan';
import { WriterOptions } from '../writers/writer';
import { LaneOutput } from './lanes';
import { Field, fieldsFor } from '../schema';
import { FlowBatch } from '../flow-batch';
import { StreamerOptions } from '../streamer';
import { FromWorker, ToWorker } from './messages';
import { activeFlowsShare } from './share';
import { mergeStats } from './stats';

const WORKER = path.join(__dirname, 'worker.js');

export class WorkerPool {
  readonly fields: Field[];
  /** the latest counters of each worker */
  readonly workerStats: (NativeStats | undefined)[];
  /** the latest peak resident memory each worker reported, KiB */
  private readonly workerRss: number[];
  private readonly children: ChildProcess[] = [];
  private queue: FromWorker[] = [];
  private wake?: () => void;
  private running = 0;
  private nextId = 0;
  private failure?: FlowseekError;
  private killed = false;
  private stopped = false;
  /** per worker: its meter is open, or it ended before that */
  private readonly settled: boolean[] = [];
  /** per worker: it opened its meter ('ready') */
  private readonly opened: boolean[] = [];
  /** stop signals this process had taken before this run's workers: a later one stops this run */
  private readonly signalsBefore = stopSignalsSoFar();
  /** per worker: it said it finished ('done' or 'error') */
  private readonly finished: boolean[] = [];
  private readonly whenReady: (() => void)[] = [];
  /** the plugins' columns, as the first batch with flows had them */
  private udps?: Field[];
  /** a worker died and the others go on (capture): one line for the log */
  onWarning?: (message: string) => void;

  constructor(private readonly options: StreamerOptions, readonly size: number) {
    this.fields = fieldsFor(options);
    this.workerStats = new Array<NativeStats | undefined>(size).fill(undefined);
    this.workerRss = new Array<number>(size).fill(0);
  }

  private get live(): boolean {
    return Boolean(this.options.interface);
  }

  start(): void {
    // ended before it started (two signals while the outputs opened): no worker to start
    if (this.killed) return;
    // one fanout group per run: the pid keeps concurrent runs apart
    const group = (process.pid % 0xfffe) + 1;
    const maxActiveFlows = activeFlowsShare(this.options.maxActiveFlows, this.size);
    for (let i = 0; i < this.size; i++) {
      // a process group of its own: Ctrl-C (SIGINT to the terminal's group) reaches the parent alone,
      // which stops the workers; it ended a worker still starting, and the run failed
      const child = fork(WORKER, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true });
      // no channel to it: the pair of sockets for it found no descriptor ('child.send is not a
      // function' was the run's last word); the workers started end, and the run fails in one line
      if (typeof child.send !== 'function') {
        child.on('error', () => undefined); // the spawn's own error, if it comes, is this one
        this.failure ??= new FlowseekError(`cannot start worker process ${i + 1} of ${this.size}: ${noChannelWhy()}`, 'FS_WORKER');
        if (child.pid !== undefined) child.kill('SIGKILL');
        this.kill();
        this.wake?.();
        return;
      }
      const options: StreamerOptions = this.live
        ? { ...this.options, maxActiveFlows, fanoutGroup: this.size > 1 ? group : 0 }
        : { ...this.options, maxActiveFlows, hashPartitions: this.size, hashPartition: i };
      child.on('message', (m: FromWorker) => this.receive(i, m));
      // the channel to a worker that died: sends fail, which its exit already tells
      child.on('error', () => undefined);
      // 'close', not 'exit': a worker's last messages may come after its exit, never after its channel closed
      child.on('close', (code, signal) => this.exited(i, code, signal));
      child.send({ t: 'start', options, text: this.text?.plan } satisfies ToWorker, () => undefined);
      // a stop that came before the workers started (a signal while the outputs opened) reaches
      // them too: it went to no worker then, and they ran until the stop's watchdog killed them
      if (this.stopped) child.send({ t: 'stop' } satisfies ToWorker, () => undefined);
      this.children.push(child);
      this.running++;
    }
  }

  /** a worker lost mid-capture while others went on: the run fails once it has ended */
  private lateFailure?: FlowseekError;

  private exited(i: number, code: number | null, signal: NodeJS.Signals | null): void {
    this.running--;
    this.settle(i);
    // a worker that a stop signal reached as it was forked (still in the parent's process group,
    // before it left it) had no meter open: nothing of it is lost, and the run is stopping anyway,
    // or soon: the same signal reached this process, which may not have handed it to the workers
    // yet (taken while the outputs open, src/run.ts). Seen once in CI: SIGINT to the group 350 ms in
    const stopping = this.stopped || stopSignalsSoFar() > this.signalsBefore;
    const unopened = stopping && !this.opened[i] && signal !== null && STOP_SIGNALS.includes(signal);
    // an exit before 'done' is a loss whatever its code (a plugin's process.exit(0) in a worker)
    if ((code !== 0 || signal || !this.finished[i]) && !this.failure && !this.killed && !unopened) {
      const how = signal ? `killed by ${signal}` : `exit ${code}`;
      if (this.live && this.running > 0 && !this.stopped) {
        this.onWarning?.(`worker ${i} ended unexpectedly (${how}); the capture goes on with ${this.running} worker${this.running === 1 ? '' : 's'}`);
        // its open flows are lost: the run, which went on, fails at its end (a service is told)
        this.lateFailure ??= new FlowseekError(`worker ${i} ended unexpectedly (${how}) during the capture: the flows it had open are missing`, 'FS_WORKER');
      } else {
        const lost = this.live ? 'no worker left' : 'the flows of its share of the host pairs are missing';
        this.failure = new FlowseekError(`worker ${i} ended unexpectedly (${how}): ${lost}`, 'FS_WORKER');
        this.stop();
      }
    }
    this.wake?.();
  }

  /** parts(): the workers' plan, and what opens each row before its id */
  private text?: { plan: NativeTextPlan; open: Buffer };

  /** system visibility: the keys of flows a worker just saw begin (as a Buffer for socketLookup) */
  onNewFlows?: (keys: Buffer) => void;

  /** what the workers' plugins emitted */
  onPluginRecords?: (records: Record<string, unknown>[]) => void;

  /** Resolves once every worker has opened its meter (or ended). */
  ready(): Promise<void> {
    return new Promise((resolve) => {
      this.whenReady.push(resolve);
      this.settle(-1);
    });
  }

  private settle(i: number): void {
    if (i >= 0) this.settled[i] = true;
    if (this.settled.filter(Boolean).length < this.size) return;
    const waiting = this.whenReady.splice(0);
    // a run that failed while its workers started (a model they cannot read) never began: no
    // "capturing on" before the error
    if (!this.failure) for (const resolve of waiting) resolve();
  }

  private receive(i: number, m: FromWorker): void {
    if (m.t === 'ready') {
      this.opened[i] = true;
      this.settle(i);
      return;
    }
    if (m.t === 'records') {
      this.onPluginRecords?.(m.records);
      return;
    }
    if (m.t === 'newFlows') {
      this.onNewFlows?.(Buffer.from(m.keys.buffer, m.keys.byteOffset, m.keys.byteLength));
      return;
    }
    if (m.t === 'done' || m.t === 'error') this.finished[i] = true;
    if (m.t === 'batch' || m.t === 'text' || m.t === 'done') {
      this.workerStats[i] = m.stats;
      this.workerRss[i] = Math.max(this.workerRss[i], m.peakRssKb);
    }
    if (m.t === 'error' && !this.failure) {
      this.failure = new FlowseekError(m.message, m.code, m.exitCode);
      this.stop();
    }
    this.queue.push(m);
    this.wake?.();
  }

  /** Every batch the workers send, until all have ended; then the first failure, if any. */
  async *batches(): AsyncGenerator<FlowBatch> {
    const idColumn = this.fields.findIndex((f) => f.name === 'id');
    for await (const m of this.messages()) {
      if (m.t !== 'batch' || m.length === 0) continue;
      const ids = m.columns[idColumn] as Float64Array;
      for (let r = 0; r < m.length; r++) ids[r] = this.nextId++;
      yield this.withUdps(m);
    }
  }

  /** Before start(), without plugins: the workers make CSV or JSON Lines rows in C, each without
   * its id, and this process numbers them in the order they come (a row at a time: the id, then
   * the bytes as they are). Undefined for another format. */
  parts(format: OutputFormat, _writer: WriterOptions, maxFlows: number): AsyncGenerator<LaneOutput> | undefined {
    if (this.children.length || this.options.plugins?.length || this.fields[0]?.name !== 'id') return undefined;
    const plan = textPlan(format, this.fields, 0);
    if (!plan) return undefined;
    this.text = { plan: { ...plan, omitId: true }, open: Buffer.from(format === 'jsonl' ? '{"id":' : '', 'latin1') };
    return this.numbered(maxFlows);
  }

  private async *numbered(maxFlows: number): AsyncGenerator<LaneOutput> {
    const open = (this.text as NonNullable<WorkerPool['text']>).open;
    for await (const m of this.messages()) {
      if (m.t !== 'text' || m.length === 0) continue;
      const first = this.nextId;
      const keep = maxFlows ? Math.max(0, Math.min(m.length, maxFlows - first)) : m.length;
      const out = new ByteBuilder(m.bytes.length + keep * (open.length + 16));
      for (let r = 0, at = 0; r < keep; at = m.ends[r++]) {
        out.raw(open);
        out.number(first + r);
        out.bytes(m.bytes.subarray(at, m.ends[r]));
      }
      this.nextId += m.length;
      // an ArrayBuffer of its own, of exactly the rows (a small builder may be a slice of Node's pool)
      const bytes = Buffer.allocUnsafeSlow(out.length);
      out.view().copy(bytes);
      yield { part: { first, flows: m.length, bytes: [bytes], owned: true } };
    }
  }

  /** What the workers send, in order, until all have ended; then the first failure, if any. */
  private async *messages(): AsyncGenerator<FromWorker> {
    for (;;) {
      const m = this.queue.shift();
      if (m) {
        yield m;
        continue;
      }
      if (this.running === 0) {
        const failure = this.failure ?? this.lateFailure;
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }

  /** A worker's batch with the plugin columns of the first batch, found by name (each worker
   * infers its own; a column one worker lacks is empty in its flows). */
  private withUdps(m: FromWorker & { t: 'batch' }): FlowBatch {
    const base = this.fields.length;
    this.udps ??= m.udps;
    const columns = [...m.columns.slice(0, base)];
    for (const f of this.udps) {
      const i = m.udps.findIndex((u) => u.name === f.name);
      if (i >= 0) columns.push(m.columns[base + i]);
      else columns.push(f.type === 'string' ? new Array<string>(m.length).fill('') : new Float64Array(m.length).fill(f.type === 'float64' ? NaN : 0));
    }
    return new FlowBatch([...this.fields, ...this.udps], columns, m.length);
  }

  /** Every worker flushes its open flows and ends. */
  stop(): void {
    this.stopped = true;
    // a worker that is already ending has closed its channel: nothing to tell it
    for (const c of this.children) if (c.connected) c.send({ t: 'stop' } satisfies ToWorker, () => undefined);
  }

  /** Ends the workers at once (a second interrupt, a stop not honoured); the flows already
   * received are kept, those the workers held are lost. */
  kill(): void {
    this.killed = true;
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.queue = this.queue.filter((m) => m.t === 'batch' || m.t === 'text');
  }

  counters(): { total?: NativeStats; perWorker?: (NativeStats | undefined)[] } {
    return { total: this.stats(), perWorker: this.workerStats };
  }

  /** The workers' counters as one meter's. */
  stats(): NativeStats {
    return mergeStats(this.workerStats, this.live, this.nextId);
  }

  /** The workers' peaks, added up. */
  peakRssKb(): number {
    return this.workerRss.reduce((a, b) => a + b, 0);
  }
}

/** Why fork() made no channel to a worker: the descriptors it needs (a pair of sockets, a pipe to
 * hear of a failed exec), tried here, say it. */
function noChannelWhy(): string {
  const opened: number[] = [];
  try {
    for (let i = 0; i < 4; i++) opened.push(fs.openSync('/dev/null', 'r'));
  } catch (e) {
    return systemErrorWords(e);
  } finally {
    for (const fd of opened) fs.closeSync(fd);
  }
  return 'no channel to it could be made';
}
