/**
 * One run from a flow source (a meter in this process, or worker processes) to the output:
 * anonymisation, --max-flows, --duration, periodic reports, signals, the closing summary.
 * Every exit path closes the output files (a Parquet footer included) or removes them.
 */
import pino from 'pino';
import { Anonymizer } from './anonymize';
import { EXIT_OK, EXIT_RUNTIME } from './errors';
import { NativeStats } from './native';
import { OutputOptions } from './options';
import { Field } from './schema';
import { FlowBatch } from './streamer';
import { IpfixExporter } from './ipfix/exporter';
import { FlowOutput } from './writers/output';
import { ProgressBar } from './progress';

export const EXIT_INTERRUPTED = 130;

export interface FlowSource {
  readonly fields: readonly Field[];
  batches(): AsyncGenerator<FlowBatch>;
  stop(): void;
  /** end at once (a second interrupt) */
  kill?(): void;
  /** counters at the end of the run */
  stats(): NativeStats | undefined;
  /** counters so far (reports), and per worker where there are workers */
  counters(): { total?: NativeStats; perWorker?: (NativeStats | undefined)[] };
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
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function summary(s: NativeStats, o: RunOptions, outputs: number | undefined, seconds: number): string {
  const reasons = Object.entries(s.ignoredBy).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
  const ignored = s.ignored ? ` (${s.ignored} ignored: ${reasons})` : '';
  const dropped = o.live ? `, ${s.kernelDropped} dropped by the kernel` : '';
  const rate = seconds > 0 ? `, ${Math.round(s.packets / seconds).toLocaleString('en')} packets/s` : '';
  const written = outputs === undefined ? '' : `, ${plural(outputs, 'output file')} written`;
  const peakMb = Math.round(process.resourceUsage().maxRSS / 1024);
  return `${s.flowsExported} flows from ${s.packets} packets${ignored}${dropped} ${o.inputLabel}${written}, ` +
    `${seconds.toFixed(2)} s${rate}, peak memory ${peakMb} MB`;
}

function report(source: FlowSource, exported: number): string {
  const { total, perWorker } = source.counters();
  if (!total) return `${exported} flows exported so far`;
  const balance = perWorker && perWorker.length > 1 ? `; packets per worker ${perWorker.map((s) => s?.processed ?? 0).join('/')}` : '';
  return `${total.packets} packets, ${total.ignored} ignored, ${total.kernelDropped} dropped by the kernel; ` +
    `${total.activeFlows} flows active, ${exported} exported${balance}`;
}

export async function runFlows(source: FlowSource, o: RunOptions, log: pino.Logger): Promise<number> {
  const started = process.hrtime.bigint();
  // with --ipfix and no -o, the collector is the only output
  const output = o.ipfix && o.output === undefined ? undefined : new FlowOutput(source.fields, o, o.splt);
  const ipfix = o.ipfix ? new IpfixExporter(source.fields.map((f) => f.name), o.ipfix) : undefined;
  const anonymizer = o.anonymize.length ? new Anonymizer(o.anonymize, o.anonymizeKey) : undefined;
  let stopping: string | undefined;
  let exported = 0;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = why;
    source.stop();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping && stopping.startsWith('SIG')) {
      log.warn(`${sig} again: ending now; the flows already received are being written`);
      if (source.kill) source.kill(); else process.exit(EXIT_INTERRUPTED);
      return;
    }
    log.warn(`${sig}: stopping; every open flow is being written (again to quit at once)`);
    stop(sig);
  };
  const signals: NodeJS.Signals[] = o.live ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM'];
  for (const s of signals) process.on(s, onSignal);
  const timers = [
    o.durationMs ? setTimeout(() => { log.info('duration reached: stopping'); stop('duration'); }, o.durationMs) : undefined,
    o.reportMs ? setInterval(() => log.info(report(source, exported)), o.reportMs) : undefined,
  ];
  try {
    await ipfix?.open();
    for await (let batch of source.batches()) {
      if (o.maxFlows && exported + batch.length > o.maxFlows) batch = batch.slice(0, o.maxFlows - exported);
      exported += batch.length;
      if (anonymizer) batch = anonymizer.apply(batch);
      await output?.write(batch);
      await ipfix?.write(batch);
      const now = o.progress && source.counters().total;
      if (now) o.progress?.update(now.bytesRead, now.packets, exported);
      if (output?.readerGone) stop('reader gone');
      if (o.maxFlows && exported >= o.maxFlows) stop('max flows');
    }
    await output?.close();
    await ipfix?.close();
  } catch (e) {
    output?.discard();
    ipfix?.discard();
    throw e;
  } finally {
    o.progress?.clear();
    for (const s of signals) process.off(s, onSignal);
    for (const t of timers) if (t) clearTimeout(t);
  }
  const stats = { ...(source.stats() as NativeStats), flowsExported: exported };
  for (const w of stats.warnings.split('\n').filter(Boolean)) log.warn(w);
  if (stats.oversizeRecords) {
    log.warn(`${stats.oversizeRecords} records longer than 65535 bytes on the wire: their sizes wrap to 16 bits, as NFStream's do`);
  }
  if (stats.flowsEvicted) {
    log.warn(`${stats.flowsEvicted} flows ended early (expiration_id 2): more than --max-active-flows were open at once`);
  }
  if (stats.allocFailures) log.error(`${stats.allocFailures} flows could not be allocated (out of memory) and are missing`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const file of output?.written ?? []) log.debug(`wrote ${file}`);
  if (ipfix) log.info(`${ipfix.records} flows sent to ${ipfix.label} in ${ipfix.messages} IPFIX messages`);
  log.info(summary(stats, o, o.output === undefined ? undefined : output?.written.length, seconds));
  if (output?.readerGone) return EXIT_OK;
  if (stopping?.startsWith('SIG') && !o.live) return EXIT_INTERRUPTED;
  return stats.readErrors || stats.allocFailures ? EXIT_RUNTIME : EXIT_OK;
}
