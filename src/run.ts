/**
 * One run from a flow source (a meter in this process, or worker processes) to the output:
 * anonymisation, --max-flows, --duration, periodic reports, signals, the closing summary.
 *
 * The order is what keeps an unattended run honest: outputs are opened before the source starts
 * (an output that cannot be opened ends the run before any worker exists); a source that fails
 * (a dead worker, a truncated file) still has every flow it handed over written and its files
 * closed whole; an output that fails is removed, never left half-written; and a stop that the
 * source does not honour in time ends it by force. Every way out leaves no process behind.
 */
import * as path from 'node:path';
import { Logger } from './log';
import { Anonymizer } from './anonymize';
import { EXIT_OK, EXIT_RUNTIME, FlowseekError, OutputError } from './errors';
import { NativeStats } from './native';
import { OutputFormat, OutputOptions } from './options';
import { Field } from './schema';
import { FlowBatch } from './flow-batch';
import { IpfixExporter } from './ipfix/exporter';
import { onStrayError } from './plugins/contain';
import { FlowOutput } from './writers/output';
import { leftDatasetTemporaries, leftTemporaries, waitForReader } from './writers/sink';
import { receiveReportSignals, receiveStopSignals } from './stop-signals';
import { WriterOptions } from './writers/writer';
import type { LaneOutput } from './workers/lanes';
import { ProgressBar } from './progress';
import { grouped, span } from './grouped';

export const EXIT_INTERRUPTED = 130;
/** After a stop, a source that hands over nothing for this long is ended by force. */
export const STOP_STALL_MS = 10_000;

export interface FlowSource {
  readonly fields: readonly Field[];
  /** starts the meters (worker processes, threads), once the outputs are open */
  start?(): void;
  /** resolves once the meters are open (a capture's sockets take packets) */
  ready?(): Promise<void>;
  batches(): AsyncGenerator<FlowBatch>;
  stop(): void;
  /** end at once (a second interrupt, a stop not honoured): flows already handed over are kept */
  kill?(): void;
  /** counters at the end of the run */
  stats(): NativeStats | undefined;
  /** counters so far (reports), and per worker where there are workers */
  counters(): { total?: NativeStats; perWorker?: (NativeStats | undefined)[] };
  /** the peak resident memory of the source's own processes, in KiB (worker processes) */
  peakRssKb?(): number;
  /** the flows as output bytes made where they are metered (LaneSet.parts, FlowStreamer.parts);
   * undefined where this source cannot make that format's bytes */
  parts?(format: OutputFormat, writer: WriterOptions, maxFlows: number): AsyncGenerator<LaneOutput> | undefined;
}

export interface RunOptions extends OutputOptions {
  maxFlows: number;
  splt: number;
  /** what the summary says the input was, e.g. "in 3 files", "on eth0" */
  inputLabel: string;
  /** live capture: a signal is how a capture normally ends (exit 0); a read it interrupts (130) */
  live: boolean;
  durationMs?: number;
  reportMs?: number;
  /** a terminal's progress line (read) */
  progress?: ProgressBar;
  /** logged once the outputs are open and the source started */
  started?: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface Summary { flows: number; packets: number; ignored: number; kernelDropped?: number; files?: number; seconds: number; packetsPerSecond: number; peakMemoryMb: number }

function summary(s: NativeStats, o: RunOptions, outputs: number | undefined, seconds: number, peakKb: number): [Summary, string] {
  const reasons = Object.entries(s.ignoredBy).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
  const ignored = s.ignored ? ` (${s.ignored} ignored: ${reasons})` : '';
  const dropped = o.live ? `, ${s.kernelDropped} dropped by the kernel` : '';
  const pps = seconds > 0 ? Math.round(s.packets / seconds) : 0;
  const rate = seconds > 0 ? `, ${grouped(pps)} packets/s` : '';
  const written = outputs === undefined ? '' : `, ${plural(outputs, 'output file')} written`;
  const peakMb = Math.round(peakKb / 1024);
  const fields: Summary = { flows: s.flowsExported, packets: s.packets, ignored: s.ignored, seconds: Number(seconds.toFixed(3)), packetsPerSecond: pps, peakMemoryMb: peakMb };
  if (o.live) fields.kernelDropped = s.kernelDropped;
  if (outputs !== undefined) fields.files = outputs;
  return [fields, `${s.flowsExported} flows from ${s.packets} packets${ignored}${dropped} ${o.inputLabel}${written}, ` +
    `${seconds.toFixed(2)} s${rate}, peak memory ${peakMb} MB`];
}

/** A report line: every --report seconds of a capture, and at SIGUSR1 or SIGUSR2 (a file has no kernel drops) */
function report(source: FlowSource, exported: number, live: boolean): [object, string] {
  const { total, perWorker } = source.counters();
  if (!total) return [{ flows: exported }, `${exported} flows exported so far`];
  const balance = perWorker && perWorker.length > 1 ? `; packets per worker ${perWorker.map((s) => s?.processed ?? 0).join('/')}` : '';
  const fields = { packets: total.packets, ignored: total.ignored, ...(live ? { kernelDropped: total.kernelDropped } : {}), activeFlows: total.activeFlows,
    flows: exported, ...(perWorker && perWorker.length > 1 ? { packetsPerWorker: perWorker.map((s) => s?.processed ?? 0) } : {}) };
  return [fields, `${total.packets} packets, ${total.ignored} ignored${live ? `, ${total.kernelDropped} dropped by the kernel` : ''}; ` +
    `${total.activeFlows} flows active, ${exported} exported${balance}`];
}

/** Outputs opened in order; an error opening one closes (removes) those before it. */
async function openOutputs(source: FlowSource, o: RunOptions, signalled: () => NodeJS.Signals | undefined): Promise<{ output?: FlowOutput; ipfix?: IpfixExporter }> {
  if (o.output && !o.partition && !(await waitForReader(o.output, () => signalled() !== undefined))) {
    throw new FlowseekError(`${signalled()} while waiting for a reader of ${o.output}: nothing was written`, 'FS_INTERRUPTED', EXIT_INTERRUPTED);
  }
  // with --ipfix and no -o, the collector is the only output
  const output = o.ipfix && o.output === undefined ? undefined : new FlowOutput(source.fields, o, o.splt);
  const ipfix = o.ipfix ? new IpfixExporter(source.fields.map((f) => f.name), o.ipfix) : undefined;
  try {
    await ipfix?.open();
  } catch (e) {
    output?.discard();
    throw e;
  }
  return { output, ipfix };
}

export async function runFlows(source: FlowSource, o: RunOptions, log: Logger): Promise<number> {
  const started = process.hrtime.bigint();
  // signals are taken from here on: one arriving while the outputs open stops the run cleanly
  const early: NodeJS.Signals[] = [];
  const releaseEarly = receiveStopSignals((sig) => { early.push(sig); }); // with those held since the start
  let exported = 0;
  // a report asked for while the outputs open too: one then was dropped (the output's temporary
  // already there, the run under way for whoever looks)
  const releaseReports = receiveReportSignals(() => { const [f, m] = report(source, exported, o.live); log.info(f, m); });
  // a run killed outright (SIGKILL, power loss) leaves its temporary: said, not removed (another
  // run may be writing it), so they do not pile up unseen under cron
  if (o.output) {
    const left = o.partition ? { where: 'in', kind: 'part', names: leftDatasetTemporaries(o.output), most: 5 }
      : { where: 'beside', kind: 'file', names: leftTemporaries(o.output).map((f) => path.basename(f)), most: Infinity };
    const n = left.names.length;
    if (n) {
      const named = left.names.slice(0, left.most).join(', ') + (n > left.most ? `, and ${n - left.most} more` : '');
      // a run whose rename failed keeps its whole temporary and names it in its error: not removed blindly
      log.warn(`${left.where} ${o.output}, ${n === 1 ? `a temporary ${left.kind}` : `${n} temporary ${left.kind}s`} of runs killed before ` +
        `they finished (or still running, or that could not rename them: their errors said so): ${named}; ` +
        `remove ${n === 1 ? 'it' : 'them'} if no other run writes there and no error of a run named ${n === 1 ? 'it' : 'them'}`);
    }
  }
  let opened: Awaited<ReturnType<typeof openOutputs>>;
  try {
    opened = await openOutputs(source, o, () => early[0]);
  } catch (e) {
    releaseReports();
    throw e;
  } finally {
    releaseEarly();
  }
  const { output, ipfix } = opened;
  const anonymizer = o.anonymize.length ? new Anonymizer(o.anonymize, o.anonymizeKey) : undefined;
  let stopping: string | undefined;
  let killed = false;
  let lastBatchAt = Date.now();
  const stallMs = o.stopStallMs ?? STOP_STALL_MS;
  let watchdog: NodeJS.Timeout | undefined;
  /** what the run waits on besides the meters: the time it waits there is not the meters' */
  let writing: 'output' | 'collector' | undefined;
  /** the output's bytes taken when last seen to move, and when */
  let taken = 0, takenAt = 0;
  /** a second signal ended a write the output did not take: the run ends interrupted */
  let abortedBy: NodeJS.Signals | undefined;
  const kill = (why: string) => {
    if (killed) return;
    killed = true;
    log.warn(why);
    if (source.kill) source.kill(); else process.exit(EXIT_INTERRUPTED);
  };
  const writeOut = async (to: 'output' | 'collector', work: () => Promise<void> | undefined) => {
    writing = to;
    taken = output?.taken ?? 0;
    takenAt = Date.now();
    try {
      await work();
    } finally {
      writing = undefined;
      lastBatchAt = Date.now(); // the meters' wait starts now
    }
  };
  /** After a stop: an output that takes nothing (a pipe or FIFO nobody reads) ends the run, with
   * its file discarded; one that is slow but moves is waited for. */
  const outputStalled = (now: number): boolean => {
    if (writing !== 'output') return false;
    const t = output?.taken ?? 0;
    if (t !== taken) { taken = t; takenAt = now; return true; }
    if (now - takenAt >= stallMs) {
      output?.abort(new Error(`it took no data for ${stallMs / 1000} s after the stop (a pipe or FIFO nobody reads?)`));
    }
    return true;
  };
  const stop = (why: string) => {
    if (stopping) return;
    stopping = why;
    lastBatchAt = Date.now();
    source.stop();
    // a collector that takes nothing must not hold the stop either
    ipfix?.stopping();
    // a source that stops handing over flows after a stop (a hung worker) must not hold the run;
    // the time spent waiting on the outputs is not the meters'
    watchdog = setInterval(() => {
      const now = Date.now();
      if (outputStalled(now) || writing === 'collector' || now - lastBatchAt < stallMs) return;
      sourceFailure ??= new FlowseekError(`the meters did not finish within ${stallMs / 1000} s of stopping; ended by force`, 'FS_STOP_STALLED');
      kill('stop not honoured in time: ending the meters now; the flows already received are being written');
    }, Math.min(1000, stallMs));
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping && stopping.startsWith('SIG')) {
      // a file only looks busy (a Parquet group being encoded): it is written to its end
      if (writing === 'output' && !abortedBy && output?.mayStall) {
        // the output may never take what waits (a pipe nobody reads): nothing more goes to it
        abortedBy = sig;
        output?.abort(new Error(`${sig} again while it was taking the flows: ended before they were all written`));
      }
      kill(`${sig} again: ending now; the flows already received are being written`);
      return;
    }
    log.warn(`${sig}: stopping; every open flow is being written (again to quit at once)`);
    stop(sig);
  };
  const releaseSignals = receiveStopSignals(onSignal);
  for (const sig of early) onSignal(sig);
  const timers = [
    o.durationMs ? setTimeout(() => { log.info('duration reached: stopping'); stop('duration'); }, o.durationMs) : undefined,
    o.reportMs ? setInterval(() => { const [f, m] = report(source, exported, o.live); log.info(f, m); }, o.reportMs) : undefined,
  ];
  /** a failure of the source: what it handed over is still written, then the run fails */
  let sourceFailure: FlowseekError | undefined;
  /** a collector that went away: the run stops as on a signal (the file output gets every flow),
   * then fails */
  let collectorFailure: FlowseekError | undefined;
  /** the meters still hand over flows */
  let reading = true;
  const collectorFailed = (e: unknown) => {
    if (collectorFailure) return;
    collectorFailure = e instanceof FlowseekError ? e : new OutputError(`IPFIX collector: ${(e as Error).message}`, { cause: e });
    // a read goes on for its file, which gets every flow of the input (it was cut short where the
    // collector failed, and replaced the earlier file with part of one); a capture stops, to be
    // started again by its service manager, which reconnects
    if (o.live || !output) stop('collector');
    // once the read is over, the error at the end says it (it was said twice, the warning saying
    // the read went on)
    else if (reading) log.warn(`${collectorFailure.message}: nothing more goes to it; the read goes on for ${o.output ?? 'standard output'}`);
  };
  if (ipfix) ipfix.onFailure = collectorFailed;
  // an error nothing awaited (a plugin's stray rejection): the run stops, writes its flows, fails
  const dropStray = onStrayError((e) => { sourceFailure ??= e; stop('stray error'); });
  try {
    try {
      // the meters make the output's bytes themselves when nothing here needs the flows (asked
      // before the start: worker processes are told when they start)
      const made = output?.takesParts && !anonymizer && !ipfix ? source.parts?.(o.format, output.writerOptions, o.maxFlows) : undefined;
      const direct = made && output?.partWriter();
      source.start?.();
      if (o.started) void (source.ready?.() ?? Promise.resolve()).then(() => { if (!stopping) log.info(o.started as string); });
      if (made && direct) {
        for await (const out of made) {
          lastBatchAt = Date.now();
          if ('group' in out) { await writeOut('output', () => guard(() => direct.group(out.group))); continue; }
          const { first, flows } = out.part;
          const kept = o.maxFlows ? Math.max(0, Math.min(flows, o.maxFlows - first)) : flows;
          exported += kept;
          await writeOut('output', () => guard(() => direct.part(out.part)));
          const now = o.progress && source.counters().total;
          if (now) o.progress?.update(now.bytesRead, now.packets, exported);
          if (output?.readerGone) stop('reader gone');
          if (o.maxFlows && exported >= o.maxFlows) stop('max flows');
        }
      }
      for await (let batch of direct ? [] : source.batches()) {
        lastBatchAt = Date.now();
        if (o.maxFlows && exported + batch.length > o.maxFlows) batch = batch.slice(0, o.maxFlows - exported);
        exported += batch.length;
        if (anonymizer) batch = anonymizer.apply(batch);
        await writeOut('output', () => guard(() => output?.write(batch)));
        if (ipfix && !collectorFailure) await writeOut('collector', () => ipfix.write(batch).catch(collectorFailed));
        const now = o.progress && source.counters().total;
        if (now) o.progress?.update(now.bytesRead, now.packets, exported);
        if (output?.readerGone) stop('reader gone');
        if (o.maxFlows && exported >= o.maxFlows) stop('max flows');
      }
    } catch (e) {
      if (e instanceof OutputFailure) throw e;
      sourceFailure ??= e instanceof FlowseekError ? e : new FlowseekError((e as Error).message, 'FS_INTERNAL', EXIT_RUNTIME, { cause: e });
    }
    reading = false;
    // a run that fails (or a read that is interrupted, or a file that could not be read to its end)
    // having handed over no flow leaves an earlier run's file as it was, not emptied
    // (a capture's signal is its normal end, but one ended at once, its meters killed, is not)
    const failing = sourceFailure || (stopping?.startsWith('SIG') && (!o.live || killed)) || source.stats()?.readErrors;
    if (failing && exported === 0 && output?.replacesFile()) {
      output.discard();
    } else if (sourceFailure && output?.replacesFile()) {
      let beside: string | undefined;
      await writeOut('output', () => guard(async () => { beside = await output.closeBeside(); }));
      if (beside) log.warn(`${o.output} is left as it was; the ${grouped(exported)} flows of this failed run are in ${beside}`);
    } else {
      // the close flushes what a pipe still holds: a reader that takes nothing is watched for there too
      await writeOut('output', () => guard(() => output?.close()));
    }
    if (!collectorFailure) await ipfix?.close().catch(collectorFailed);
    if (collectorFailure) ipfix?.discard();
  } catch (e) {
    // the file output failed: end the meters and leave no half-written file
    const err = e instanceof OutputFailure ? e.failure : e;
    killed = true;
    source.kill?.();
    output?.discard();
    ipfix?.discard();
    for (const f of output?.leftBehind ?? []) log.warn(`a half-written temporary file could not be removed: ${f}; remove it`);
    if (abortedBy && err instanceof FlowseekError) throw new FlowseekError(err.message, err.code, EXIT_INTERRUPTED, { cause: err });
    throw err instanceof FlowseekError ? err : new OutputError(`cannot write the output: ${(err as Error).message}`, { cause: err });
  } finally {
    o.progress?.clear();
    releaseSignals();
    releaseReports();
    for (const t of timers) if (t) clearTimeout(t);
    if (watchdog) clearInterval(watchdog);
    dropStray();
  }
  const stats = { ...(source.stats() as NativeStats), flowsExported: exported };
  for (const w of stats.warnings.split('\n').filter(Boolean)) {
    // a capture's own read error (the interface gone) is what fails it: an error, for logs that filter
    if (o.live && w.startsWith('capture: ') && w.endsWith('flows up to this point are kept')) log.error(w); else log.warn(w);
  }
  // a file a line past the room the meter keeps for them, the rest in one line
  if (stats.readErrorsLeftOut) log.warn(`... and ${plural(stats.readErrorsLeftOut, 'more file')} with read errors (the first are named above)`);
  if (stats.oversizeRecords) {
    log.warn(`${stats.oversizeRecords} records longer than 65535 bytes on the wire: their sizes wrap to 16 bits, as NFStream's do`);
  }
  // files that overlap in time were said to be (their packets are the ones held back)
  if (stats.retimed && !stats.overlappingFiles) {
    log.warn(`${grouped(stats.retimed)} packets came timed more than a second before a packet read earlier (by up to ${span(stats.retimedMaxMs)}): ` +
      'each is counted at that later time, as NFStream counts it (one packet timed far ahead holds every later one)');
  }
  if (stats.flowsEvicted) {
    log.warn(`${stats.flowsEvicted} flows ended early (expiration_id 2): more than --max-active-flows were open at once`);
  }
  if (stats.allocFailures) log.error(`${stats.allocFailures} flows could not be allocated (out of memory) and are missing`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const file of output?.written ?? []) log.debug(`wrote ${file}`);
  if (ipfix) log.info({ flows: ipfix.records, messages: ipfix.messages, notSent: exported - ipfix.records }, ipfix.summary(exported));
  // workers' peaks add up: an upper bound of what the run held at once
  const peakKb = process.resourceUsage().maxRSS + (source.peakRssKb?.() ?? 0);
  const [fields, line] = summary(stats, o, o.output === undefined ? undefined : output?.written.length, seconds, peakKb);
  log.info(fields, line);
  const failure = sourceFailure ?? collectorFailure;
  // a read stopped by a signal is interrupted (130) even when its collector then failed
  if (!sourceFailure && collectorFailure && stopping?.startsWith('SIG') && !o.live) {
    throw new FlowseekError(collectorFailure.message, collectorFailure.code, EXIT_INTERRUPTED, { cause: collectorFailure.cause });
  }
  if (failure) throw failure;
  if (output?.readerGone) return EXIT_OK;
  // a capture's signal is its normal end (0); a second one, ending it at once, lost the flows still
  // open in its meters: interrupted, as a read is (it exited 0, the earlier file replaced)
  if (stopping?.startsWith('SIG') && (!o.live || killed)) return EXIT_INTERRUPTED;
  return stats.readErrors || stats.allocFailures ? EXIT_RUNTIME : EXIT_OK;
}

/** An output's write or close failed (as opposed to the source). */
class OutputFailure extends Error {
  constructor(readonly failure: unknown) {
    super((failure as Error)?.message ?? String(failure));
  }
}

async function guard(work: () => Promise<void> | undefined): Promise<void> {
  try {
    await work();
  } catch (e) {
    throw new OutputFailure(e);
  }
}
