/** Command-line values to one typed, validated configuration. Nothing is opened here. */
import { UsageError } from './errors';
import { IpfixTarget } from './ipfix/exporter';
import { checkMemoryNeed } from './memory-need';
import type { PluginSpec } from './streamer';
import { fieldsFor, TimePrecision } from './schema';

export type OutputFormat = 'csv' | 'jsonl' | 'parquet' | 'arrow';
export type AccountingMode = 0 | 1 | 2 | 3;
export const ACCOUNTING_NAMES = ['raw', 'ip', 'transport', 'payload'] as const;

export interface MeterOptions {
  idleTimeoutMs: number;
  activeTimeoutMs: number;
  accountingMode: AccountingMode;
  decodeTunnels: boolean;
  bpf?: string;
  snaplen: number;
  maxFlows: number;
  /** open flows at most; beyond, the oldest ends early (expiration_id 2) */
  maxActiveFlows: number;
  stats: boolean;
  splt: number;
  dissections: number;
  /** beyond NFStream */
  timePrecision: TimePrecision;
  activityFeatures: boolean;
  activityGapMs: number;
  payloadBytes: number;
  headerPackets: number;
  headerWidth: number;
  communityId: boolean;
  communityIdSeed: number;
  /** --plugin, in order (shipped names or module paths), each with every --plugin-option */
  plugins?: PluginSpec[];
  /** a hook that throws: counted and reported (default), or the end of the run */
  pluginErrors?: 'count' | 'fail';
  /** an async hook unsettled after this long ends the run */
  pluginTimeoutMs?: number;
}

export const COMPRESSIONS = ['zstd', 'snappy', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];
export type Partition = 'hour' | 'day';

/** Where and how flows are written: one file or stdout, rotated files, or a Hive-style dataset. */
export interface OutputOptions {
  output?: string;
  format: OutputFormat;
  compression: Compression;
  /** a new file after this many flows (0: no limit) */
  flowsPerFile: number;
  /** a new file after this much flow time (ms; 0: never) */
  rotateMs: number;
  /** a ring: at most this many rotated files of the run kept, the oldest deleted (0 or absent: all kept) */
  rotateFiles?: number;
  /** `output` is a dataset folder: dt=YYYY-MM-DD[/hour=HH]/part-<n>.<ext> by flow start (UTC) */
  partition?: Partition;
  /** string columns replaced by a keyed hash */
  anonymize: string[];
  anonymizeKey?: string;
  /** Parquet rows per row group (0: sized by the writer) */
  rowGroupRows: number;
  /** also (or only, without -o) send flows to an IPFIX collector */
  ipfix?: IpfixTarget;
  /** after a stop, meters that hand over nothing for this long are ended and the outputs closed */
  stopStallMs?: number;
  /** --partition: a partition is closed once flow time passes its end by this much (the active
   * plus the idle timeout: no flow begun in it can still come) */
  partitionSettleMs?: number;
}

export interface ReadOptions extends MeterOptions, OutputOptions {
  files: string[];
  batchSize: number;
  workers: number;
}

export interface CaptureOptions extends MeterOptions, OutputOptions {
  interface: string;
  promisc: boolean;
  bufferBytes: number;
  workers: number;
  durationMs: number;
  reportMs: number;
  batchSize: number;
  /** the process behind each flow, from the host's socket tables */
  systemVisibility: boolean;
  systemVisibilityPollMs: number;
}

/** What commander hands over for `capture`, beyond what `read` takes. */
export interface RawCaptureOptions extends RawReadOptions {
  interface?: string;
  promisc?: boolean;
  bufferSize?: string;
  duration?: string;
  report?: string;
  systemVisibility?: boolean;
  systemVisibilityPollMs?: string;
}

export const DEFAULTS = {
  idleTimeout: 120,
  activeTimeout: 1800,
  dissections: 20,
  accountingMode: 'raw',
  /** flows a native batch hands JavaScript: each is a few thousand strings while it is written, and
   * smaller batches keep V8's young generation small (peak memory 188 -> 151 MB at 1024 on the
   * bench capture, the same CPU) */
  batchSize: 1024,
  /** Arrow IPC writes a record batch per batch: its stream keeps the framing it had */
  arrowBatchSize: 4096,
  /** about 1.1 GB of flow records with detection running on every one: generous, yet bounded */
  maxActiveFlows: 1_000_000,
  /** CICFlowMeter's activity timeout, 5 s */
  activityGap: 5,
  /** IPv4 with options or IPv6, and TCP with most options */
  headerWidth: 64,
} as const;

/** A number as typed on the command line, or as a program passes it. */
export type NumberText = string | number;

/** What commander hands over for `read` (strings as typed, booleans for switches); a program may
 * pass numbers where the command line has numeric text. */
export interface RawReadOptions {
  idleTimeout?: NumberText;
  activeTimeout?: NumberText;
  accountingMode?: string | AccountingMode;
  decodeTunnels?: boolean;
  bpf?: string;
  snaplen?: NumberText;
  maxFlows?: NumberText;
  stopTimeout?: NumberText;
  maxActiveFlows?: NumberText;
  stats?: boolean;
  splt?: NumberText;
  dissections?: NumberText;
  timePrecision?: string;
  activityFeatures?: boolean;
  activityGap?: NumberText;
  payloadBytes?: NumberText;
  headerBytes?: NumberText;
  headerWidth?: NumberText;
  communityId?: boolean;
  communityIdSeed?: NumberText;
  plugin?: string[];
  pluginOption?: string[];
  model?: string;
  features?: string;
  predictAt?: string;
  predictions?: string;
  pluginErrors?: string;
  pluginTimeout?: NumberText;
  output?: string;
  csv?: boolean;
  jsonl?: boolean;
  parquet?: boolean;
  format?: string;
  compression?: string;
  flowsPerFile?: string;
  rotate?: string;
  rotateFiles?: string;
  partition?: string;
  anonymize?: string;
  anonymizeKey?: string;
  rowGroupRows?: string;
  rowGroupSize?: string;
  ipfix?: string;
  ipfixDomain?: string;
  ipfixTemplateRefresh?: string;
  batchSize?: string;
  workers?: string;
}

function number(flag: string, value: NumberText | undefined, fallback: number, what: string, min: number, max: number,
                integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const ok = (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '')) && Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n));
  if (!ok) throw new UsageError(`"${flag}" must be ${what}, got "${value}"`);
  return n;
}

export function parseAccountingMode(value: string | number | undefined): AccountingMode {
  const v = String(value ?? DEFAULTS.accountingMode).toLowerCase();
  const byName = ACCOUNTING_NAMES.indexOf(v as (typeof ACCOUNTING_NAMES)[number]);
  if (byName >= 0) return byName as AccountingMode;
  if (/^[0-3]$/.test(v)) return Number(v) as AccountingMode;
  throw new UsageError(`"--accounting-mode" must be one of raw, ip, transport, payload (or 0-3), got "${value}"`);
}

export function formatFromPath(path: string): OutputFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.arrow') || lower.endsWith('.arrows') || lower.endsWith('.feather')) return 'arrow';
  return undefined;
}

export function parseMeterOptions(raw: RawReadOptions): MeterOptions {
  const idle = number('--idle-timeout', raw.idleTimeout, DEFAULTS.idleTimeout, 'a non-negative number (seconds)', 0, 1e9, false);
  const active = number('--active-timeout', raw.activeTimeout, DEFAULTS.activeTimeout, 'a non-negative number (seconds)', 0, 1e9, false);
  return {
    idleTimeoutMs: Math.round(idle * 1000),
    activeTimeoutMs: Math.round(active * 1000),
    accountingMode: parseAccountingMode(raw.accountingMode),
    decodeTunnels: raw.decodeTunnels !== false,
    bpf: raw.bpf,
    snaplen: number('--snaplen', raw.snaplen, 0, 'a whole number of bytes from 0 (keep all) to 262144', 0, 262144, true),
    maxFlows: number('--max-flows', raw.maxFlows, 0, 'a positive whole number of flows', 1, Number.MAX_SAFE_INTEGER, true),
    maxActiveFlows: number('--max-active-flows', raw.maxActiveFlows, DEFAULTS.maxActiveFlows, 'a positive whole number of flows (0: no limit)', 0, 1e9, true),
    stats: raw.stats === true,
    splt: number('--splt', raw.splt, 0, 'a whole number of packets from 1 to 255', 1, 255, true),
    dissections: number('--dissections', raw.dissections, DEFAULTS.dissections, 'a whole number of packets from 0 (off) to 255', 0, 255, true),
    timePrecision: parseTimePrecision(raw.timePrecision),
    activityFeatures: raw.activityFeatures === true || raw.activityGap !== undefined,
    activityGapMs: 1000 * number('--activity-gap', raw.activityGap, DEFAULTS.activityGap, 'a positive number of seconds', 0.000001, 1e6, false),
    payloadBytes: number('--payload-bytes', raw.payloadBytes, 0, 'a whole number of bytes from 1 to 65535', 1, 65535, true),
    headerPackets: number('--header-bytes', raw.headerBytes, 0, 'a whole number of packets from 1 to 255', 1, 255, true),
    headerWidth: headerWidth(raw),
    communityId: raw.communityId === true || raw.communityIdSeed !== undefined,
    communityIdSeed: number('--community-id-seed', raw.communityIdSeed, 0, 'a whole number from 0 to 65535', 0, 65535, true),
    ...parsePlugins(raw),
  };
}

/** --plugin-option key=value (or plugin.key=value for one plugin): numbers and true/false typed. */
function parsePlugins(raw: RawReadOptions): { plugins: PluginSpec[]; pluginErrors: 'count' | 'fail'; pluginTimeoutMs: number } {
  const options: Record<string, unknown> = {};
  for (const kv of raw.pluginOption ?? []) {
    const m = /^([A-Za-z_][\w.]*)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`"--plugin-option" must be key=value, got "${kv}"`);
    const v = m[2];
    options[m[1]] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  const specs = raw.plugin ?? [];
  if (!specs.length && raw.pluginOption?.length) throw new UsageError('"--plugin-option" goes with --plugin');
  // the model plugin's own flags
  const modelFlags: [string, string | undefined, string][] = [['--model', raw.model, 'model'], ['--features', raw.features, 'features'], ['--predict-at', raw.predictAt, 'predictAt'], ['--predictions', raw.predictions, 'predictions']];
  for (const [flag, value, key] of modelFlags) {
    if (value === undefined) continue;
    if (!specs.includes('model')) throw new UsageError(`"${flag}" goes with --plugin model`);
    options[`model.${key}`] = key === 'predictAt' ? number(flag, value, 0, 'a positive whole number of packets', 1, 1e9, true) : value;
  }
  const errors = (raw.pluginErrors ?? 'count').toLowerCase();
  if (errors !== 'count' && errors !== 'fail') throw new UsageError(`"--plugin-errors" must be count or fail, got "${raw.pluginErrors}"`);
  const pluginTimeoutMs = Math.round(number('--plugin-timeout', raw.pluginTimeout, 60, 'a positive number of seconds', 0.1, 86400, false) * 1000);
  return { plugins: specs.map((spec) => ({ spec, options })), pluginErrors: errors, pluginTimeoutMs };
}

function parseTimePrecision(value: string | undefined): TimePrecision {
  const v = (value ?? 'ms').toLowerCase();
  if (v === 'ms' || v === 'us' || v === 'ns') return v;
  throw new UsageError(`"--time-precision" must be ms, us or ns, got "${value}"`);
}

function headerWidth(raw: RawReadOptions): number {
  if (raw.headerWidth !== undefined && raw.headerBytes === undefined) throw new UsageError('"--header-width" goes with --header-bytes');
  return number('--header-width', raw.headerWidth, DEFAULTS.headerWidth, 'a whole number of bytes from 20 to 1024', 20, 1024, true);
}

/** The format flags (--csv, --jsonl, --parquet, --format) agree on at most one format. */
function formatFlag(raw: RawReadOptions): OutputFormat | undefined {
  const named = [raw.csv && 'csv', raw.jsonl && 'jsonl', raw.parquet && 'parquet', raw.format?.toLowerCase()]
    .filter((x): x is string => Boolean(x));
  for (const n of named) {
    if (n !== 'csv' && n !== 'jsonl' && n !== 'parquet' && n !== 'arrow') throw new UsageError(`"--format" must be csv, jsonl, parquet or arrow, got "${n}"`);
  }
  if (new Set(named).size > 1) throw new UsageError(`choose one output format, not ${[...new Set(named)].join(' and ')}`);
  return named[0] as OutputFormat | undefined;
}

export function parseOutputOptions(raw: RawReadOptions, meter: MeterOptions): OutputOptions {
  let format = formatFlag(raw);
  const partition = raw.partition?.toLowerCase();
  if (partition !== undefined && partition !== 'hour' && partition !== 'day') {
    throw new UsageError(`"--partition" must be hour or day, got "${raw.partition}"`);
  }
  if (raw.output !== undefined) {
    if (raw.output === '') throw new UsageError('"--output" needs a path');
    if (partition) format = format ?? 'parquet';
    const fromPath = formatFromPath(raw.output);
    if (!format && !fromPath) {
      throw new UsageError(`cannot tell the format of "${raw.output}": name it .csv, .jsonl or .parquet (.arrow: Arrow IPC), or add --format`);
    }
    format = format ?? fromPath;
  } else if (partition) {
    throw new UsageError('"--partition" writes a dataset folder: give it with -o DIR');
  }
  format = format ?? 'csv';
  if (format === 'parquet' && raw.output === undefined) {
    throw new UsageError('Parquet is written to a file: give one with -o PATH.parquet (a FIFO or /dev/stdout works too)');
  }
  const compression = (raw.compression ?? 'zstd').toLowerCase();
  if (!(COMPRESSIONS as readonly string[]).includes(compression)) {
    throw new UsageError(`"--compression" must be one of ${COMPRESSIONS.join(', ')}, got "${raw.compression}"`);
  }
  if (raw.compression !== undefined && format !== 'parquet') throw new UsageError('"--compression" applies to Parquet output only');
  const flowsPerFile = number('--flows-per-file', raw.flowsPerFile, 0, 'a positive whole number of flows', 1, Number.MAX_SAFE_INTEGER, true);
  const rotate = number('--rotate', raw.rotate, 0, 'a positive number of seconds', 0.001, 1e9, false);
  if ((flowsPerFile || rotate) && raw.output === undefined) {
    throw new UsageError('"--flows-per-file" and "--rotate" write several files: give a path with -o');
  }
  const rotateFiles = number('--rotate-files', raw.rotateFiles, 0, 'a positive whole number of files', 1, 1e9, true);
  if (rotateFiles && !(flowsPerFile || rotate)) throw new UsageError('"--rotate-files" goes with --flows-per-file or --rotate');
  if (rotateFiles && partition) throw new UsageError('"--rotate-files" keeps rotated files, not dataset parts: it cannot go with --partition');
  const anonymize = parseAnonymize(raw.anonymize, meter);
  const ipfix = parseIpfix(raw);
  if (ipfix && anonymize.some((c) => c === 'src_ip' || c === 'dst_ip')) {
    throw new UsageError('IPFIX carries addresses as addresses: "--anonymize src_ip,dst_ip" cannot go with "--ipfix"');
  }
  if (raw.anonymizeKey !== undefined && anonymize.length === 0) throw new UsageError('"--anonymize-key" needs "--anonymize COLUMNS"');
  if (raw.anonymizeKey === '') throw new UsageError('"--anonymize-key" must not be empty');
  return {
    output: raw.output, format, compression: compression as Compression, flowsPerFile, rotateMs: Math.round(rotate * 1000), rotateFiles,
    partition: partition as Partition | undefined, anonymize, anonymizeKey: raw.anonymizeKey,
    rowGroupRows: number(raw.rowGroupSize !== undefined ? '--row-group-size' : '--row-group-rows', raw.rowGroupSize ?? raw.rowGroupRows, 0,
      'a positive whole number of flows', 1, 1 << 24, true),
    ipfix,
    stopStallMs: Math.round(number('--stop-timeout', raw.stopTimeout, 10, 'a positive number of seconds', 0.1, 86400, false) * 1000),
    partitionSettleMs: partition ? meter.activeTimeoutMs + meter.idleTimeoutMs : undefined,
  };
}

/** Only text columns can be anonymised (addresses, MACs, names, fingerprints): a hash is text. */
function parseAnonymize(value: string | undefined, meter: MeterOptions): string[] {
  if (value === undefined) return [];
  const names = value.split(',').map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('"--anonymize" needs column names, e.g. src_ip,dst_ip');
  const fields = fieldsFor(meter);
  for (const n of names) {
    const field = fields.find((x) => x.name === n);
    if (!field) throw new UsageError(`"--anonymize": no column "${n}" with these options (see: flowseek fields)`);
    if (field.type !== 'string') throw new UsageError(`"--anonymize": "${n}" is a number; only text columns can be anonymised`);
  }
  return [...new Set(names)];
}

export function parseReadOptions(files: string[], raw: RawReadOptions & { systemVisibility?: boolean }): ReadOptions {
  if (files.length === 0) throw new UsageError('read needs at least one capture file');
  if (raw.systemVisibility) {
    throw new UsageError('"--system-visibility" needs live traffic of this host: use it with "flowseek capture", not with a capture file');
  }
  const meter = parseMeterOptions(raw);
  const read: ReadOptions = {
    ...meter,
    ...parseOutputOptions(raw, meter),
    files,
    batchSize: 0,
    workers: number('--workers', raw.workers, 1, 'a whole number of processes from 1 to 64', 1, 64, true),
  };
  read.batchSize = batchSize(raw, read.format);
  checkMemoryNeed(read, memoryDefaults(read, 1));
  return read;
}

/** The same run with every option that sizes memory at its default. */
function memoryDefaults<T extends MeterOptions & OutputOptions & { batchSize: number; workers: number }>(o: T, workers: number): T {
  return { ...o, maxActiveFlows: DEFAULTS.maxActiveFlows, batchSize: batchSize({}, o.format), workers, rowGroupRows: 0,
    payloadBytes: 0, headerPackets: 0, headerWidth: DEFAULTS.headerWidth, splt: 0 };
}

const batchSize = (raw: RawReadOptions, format: OutputFormat) =>
  number('--batch-size', raw.batchSize, format === 'arrow' ? DEFAULTS.arrowBatchSize : DEFAULTS.batchSize, 'a whole number of flows from 1 to 1048576', 1, 1 << 20, true);

/** Live capture defaults to all cores but one for the workers (the parent writes). */
export function parseCaptureOptions(raw: RawCaptureOptions, cores: number): CaptureOptions {
  if (!raw.interface) throw new UsageError('capture needs an interface: -i IFACE (see: flowseek interfaces)');
  const meter = parseMeterOptions({ ...raw, snaplen: raw.snaplen ?? '1536' });
  if (meter.snaplen === 0) throw new UsageError('"--snaplen" must be at least 1 byte for a live capture');
  const capture: CaptureOptions = {
    ...meter,
    ...parseOutputOptions(raw, meter),
    interface: raw.interface,
    promisc: raw.promisc !== false,
    bufferBytes: number('--buffer-size', raw.bufferSize, 0, 'a whole number of bytes', 0, 2 ** 31 - 1, true),
    workers: number('--workers', raw.workers, Math.max(1, cores - 1), 'a whole number of processes from 1 to 64', 1, 64, true),
    durationMs: Math.round(number('--duration', raw.duration, 0, 'a positive number of seconds', 0.001, 1e9, false) * 1000),
    reportMs: Math.round(number('--report', raw.report, 0, 'a positive number of seconds', 0.1, 1e9, false) * 1000),
    batchSize: 0,
    systemVisibility: raw.systemVisibility === true,
    systemVisibilityPollMs: number('--system-visibility-poll-ms', raw.systemVisibilityPollMs, 100, 'a whole number of milliseconds from 10 to 60000', 10, 60000, true),
  };
  capture.batchSize = batchSize(raw, capture.format);
  checkMemoryNeed(capture, memoryDefaults(capture, Math.max(1, cores - 1)));
  return capture;
}

/** "HOST:PORT", "udp://HOST:PORT", "tcp://HOST:PORT"; an IPv6 host in brackets. */
export function parseIpfix(raw: RawReadOptions): IpfixTarget | undefined {
  if (raw.ipfix === undefined) {
    if (raw.ipfixDomain !== undefined || raw.ipfixTemplateRefresh !== undefined) throw new UsageError('"--ipfix-domain" and "--ipfix-template-refresh" go with --ipfix');
    return undefined;
  }
  const m = /^(?:(udp|tcp):\/\/)?(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]]+)):(\d{1,5})$/.exec(raw.ipfix.trim());
  const port = m ? Number(m[4]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`"--ipfix" must be HOST:PORT, udp://HOST:PORT or tcp://HOST:PORT (IPv6 as [ADDR]:PORT), got "${raw.ipfix}"`);
  }
  return {
    transport: (m[1] ?? 'udp') as 'udp' | 'tcp', host: m[2] ?? m[3], port,
    domain: number('--ipfix-domain', raw.ipfixDomain, 0, 'a whole number from 0 to 4294967295', 0, 4294967295, true),
    templateRefreshMs: 1000 * number('--ipfix-template-refresh', raw.ipfixTemplateRefresh, 60, 'a positive number of seconds', 0.001, 86400, false),
  };
}
