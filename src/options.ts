/** Command-line values to one typed, validated configuration. Nothing is opened here. */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { UsageError } from './errors';
import { IpfixTarget } from './ipfix/exporter';
import { checkMemoryNeed } from './memory-need';
import { loadNative } from './native';
import { ACCOUNTING_NAMES, COMPRESSIONS, CommandName, defaultOf, either, expand, FORMATS, NumberText, numberDefault, option, RawOptionsOf, TIME_PRECISIONS } from './option-table';
import type { PluginSpec } from './streamer';
import { Field, FieldGroup, FIELDS, fieldsFor, TimePrecision } from './schema';
import { parseFeatures } from './plugins/model/spec';
import { DESCRIPTOR } from './writers/sink';

export { ACCOUNTING_NAMES, COMPRESSIONS } from './option-table';
export type OutputFormat = (typeof FORMATS)[number];
export type AccountingMode = 0 | 1 | 2 | 3;

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
  /** bpf: kernel events, or fail; poll: sock_diag lookups; auto: bpf where it loads, else poll */
  systemVisibilityMode: SystemVisibilityMode;
}

export type SystemVisibilityMode = 'bpf' | 'poll' | 'auto';

/** A number as typed on the command line, or as a program passes it. */
export type { NumberText } from './option-table';

/** What commander hands over for `read` and `capture` (text as typed, booleans for switches, lists as
 * arrays; a program may pass numbers where the command line has numeric text): typed from the
 * options table, so an option added there is known here. --accounting-mode also takes its number. */
export type RawReadOptions = Omit<RawOptionsOf<'read'>, 'accountingMode'> & { accountingMode?: string | AccountingMode };
export type RawCaptureOptions = Omit<RawOptionsOf<'capture'>, 'accountingMode'> & { accountingMode?: string | AccountingMode };

/** A number option, checked against its range in the table; absent, the table's default (0 when it
 * has none: off, no limit). */
function number(flag: string, value: NumberText | undefined, command?: CommandName): number {
  const spec = option(flag, command);
  if (value === undefined) return numberDefault(flag, command);
  const n = Number(value);
  const min = spec.min ?? -Infinity;
  const max = spec.max ?? Infinity;
  const ok = (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '')) && Number.isFinite(n) && n >= min && n <= max &&
    (spec.kind !== 'integer' || Number.isInteger(n));
  if (!ok) throw new UsageError(`"${flag}" must be ${expand(spec.must ?? '', spec)}, got "${value}"`);
  return n;
}

/** A choice option, in any case; absent, the table's default. */
function choice<T extends string>(flag: string, value: string | undefined): T {
  const spec = option(flag);
  const v = (value ?? String(defaultOf(flag))).toLowerCase();
  if (!(spec.choices ?? []).includes(v)) throw new UsageError(`"${flag}" must be ${either(spec.choices ?? [])}, got "${value}"`);
  return v as T;
}

export function parseAccountingMode(value: string | number | undefined): AccountingMode {
  const v = String(value ?? defaultOf('--accounting-mode')).toLowerCase();
  const byName = ACCOUNTING_NAMES.indexOf(v as (typeof ACCOUNTING_NAMES)[number]);
  if (byName >= 0) return byName as AccountingMode;
  if (/^[0-3]$/.test(v)) return Number(v) as AccountingMode;
  const spec = option('--accounting-mode');
  throw new UsageError(`"--accounting-mode" must be ${expand(spec.must ?? '', spec)}, got "${value}"`);
}

const FORMAT_NAMES: Record<OutputFormat, string> = { csv: 'CSV', jsonl: 'JSON Lines', parquet: 'Parquet', arrow: 'Arrow IPC' };

/** A descriptor, FIFO, device or socket: one stream, beside which numbered files cannot go
 * (/dev/stdout.0.csv would be made in /dev). */
function isStream(output: string): boolean {
  if (DESCRIPTOR.test(output)) return true;
  try {
    const st = fs.statSync(output);
    return !st.isFile() && !st.isDirectory();
  } catch {
    return false;
  }
}

/** A filter libpcap cannot compile is a usage error, said before anything opens (exit 2). */
function checkFilter(bpf: string | undefined): string | undefined {
  if (bpf === undefined) return undefined;
  const why = loadNative().checkFilter(bpf);
  if (why !== null) throw new UsageError(`"--bpf" is not a filter libpcap can compile (${why}), got "${bpf}"`);
  return bpf;
}

export function formatFromPath(path: string): OutputFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.arrow') || lower.endsWith('.arrows') || lower.endsWith('.feather')) return 'arrow';
  return undefined;
}

/** The meter's options; `command` picks its defaults (capture's --snaplen). */
export function parseMeterOptions(raw: RawReadOptions, command: CommandName = 'read'): MeterOptions {
  const idle = number('--idle-timeout', raw.idleTimeout);
  const active = number('--active-timeout', raw.activeTimeout);
  const meter: MeterOptions = {
    idleTimeoutMs: Math.round(idle * 1000),
    activeTimeoutMs: Math.round(active * 1000),
    accountingMode: parseAccountingMode(raw.accountingMode),
    decodeTunnels: raw.decodeTunnels !== false,
    bpf: checkFilter(raw.bpf),
    snaplen: number('--snaplen', raw.snaplen, command),
    maxFlows: number('--max-flows', raw.maxFlows),
    maxActiveFlows: number('--max-active-flows', raw.maxActiveFlows),
    stats: raw.stats === true,
    splt: number('--splt', raw.splt),
    dissections: number('--dissections', raw.dissections),
    timePrecision: parseTimePrecision(raw.timePrecision),
    activityFeatures: raw.activityFeatures === true || raw.activityGap !== undefined,
    activityGapMs: 1000 * number('--activity-gap', raw.activityGap),
    payloadBytes: number('--payload-bytes', raw.payloadBytes),
    headerPackets: number('--header-bytes', raw.headerBytes),
    headerWidth: headerWidth(raw),
    communityId: raw.communityId === true || raw.communityIdSeed !== undefined,
    communityIdSeed: number('--community-id-seed', raw.communityIdSeed),
    ...parsePlugins(raw),
  };
  checkModelFeatures(raw.features, meter);
  return meter;
}

/** The option that adds each group of columns, for a feature the run does not make. */
const GROUP_FLAG: Partial<Record<FieldGroup, string>> = {
  stats: '--stats', splt: '--splt N', dpi: '--dissections N', system: '--system-visibility', time_us: '--time-precision us',
  time_ns: '--time-precision ns', activity: '--activity-features', payload: '--payload-bytes N', header: '--header-bytes N',
  community: '--community-id', tunnel: 'tunnel decoding (no --no-decode-tunnels)',
};

/** --features that are not columns of this run are a usage error now, not at the first flows. */
function checkModelFeatures(features: string | undefined, meter: MeterOptions): void {
  if (features === undefined) return;
  let specs: ReturnType<typeof parseFeatures>;
  try {
    specs = parseFeatures(features);
  } catch (e) {
    throw new UsageError(`"--features": ${(e as Error).message}`);
  }
  const have = new Set(fieldsFor(meter).map((f) => f.name));
  const wanted = specs.flatMap((s) => (s.source.kind === 'scalar' ? s.source.columns : s.source.kind === 'splt' ? s.source.channels
    : [s.source.kind === 'payload' ? 'payload_bytes' : 'header_bytes']));
  for (const column of wanted) {
    if (have.has(column)) continue;
    const group = FIELDS.find((f) => f.name === column)?.group;
    const flag = group ? GROUP_FLAG[group] : undefined;
    throw new UsageError(`"--features": ${column} is not a column of this run${flag ? ` (it comes with ${flag})` : ''}`);
  }
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
  const modelFlags: [string, NumberText | undefined, string][] = [['--model', raw.model, 'model'], ['--features', raw.features, 'features'], ['--predict-at', raw.predictAt, 'predictAt'], ['--predictions', raw.predictions, 'predictions']];
  for (const [flag, value, key] of modelFlags) {
    if (value === undefined) continue;
    if (!specs.includes('model')) throw new UsageError(`"${flag}" goes with --plugin model`);
    // the two files would be one: the flows' file, published last, replaced the predictions
    if (key === 'predictions' && raw.output !== undefined && nodePath.resolve(String(value)) === nodePath.resolve(raw.output)) {
      throw new UsageError(`"--predictions" and "-o" name the same file (${raw.output}): give the predictions a file of their own`);
    }
    options[`model.${key}`] = key === 'predictAt' ? number(flag, value) : value;
  }
  if (specs.includes('model')) {
    // given as flags or as plugin options: without them the plugin could only fail once started
    const has = (key: string) => options[`model.${key}`] !== undefined || options[key] !== undefined;
    if (!has('model')) throw new UsageError('"--plugin model" needs --model FILE.onnx');
    if (!has('features')) throw new UsageError('"--plugin model" needs --features COLUMNS: the model\'s inputs, in order');
  }
  const errors = choice<'count' | 'fail'>('--plugin-errors', raw.pluginErrors);
  const pluginTimeoutMs = Math.round(number('--plugin-timeout', raw.pluginTimeout) * 1000);
  return { plugins: specs.map((spec) => ({ spec, options })), pluginErrors: errors, pluginTimeoutMs };
}

function parseTimePrecision(value: string | undefined): TimePrecision {
  return choice<(typeof TIME_PRECISIONS)[number]>('--time-precision', value);
}

function headerWidth(raw: RawReadOptions): number {
  if (raw.headerWidth !== undefined && raw.headerBytes === undefined) throw new UsageError('"--header-width" goes with --header-bytes');
  return number('--header-width', raw.headerWidth);
}

/** The format flags (--csv, --jsonl, --parquet, --format) agree on at most one format. */
function formatFlag(raw: RawReadOptions): OutputFormat | undefined {
  const named = [raw.csv && 'csv', raw.jsonl && 'jsonl', raw.parquet && 'parquet', raw.format?.toLowerCase()]
    .filter((x): x is string => Boolean(x));
  for (const n of named) choice('--format', n);
  if (new Set(named).size > 1) throw new UsageError(`choose one output format, not ${[...new Set(named)].join(' and ')}`);
  return named[0] as OutputFormat | undefined;
}

export function parseOutputOptions(raw: RawReadOptions, meter: MeterOptions): OutputOptions {
  let format = formatFlag(raw);
  const partition = raw.partition === undefined ? undefined : choice<Partition>('--partition', raw.partition);
  if (raw.output !== undefined) {
    if (raw.output === '') throw new UsageError('"--output" needs a path');
    notUtf8('-o', raw.output);
    const fromPath = formatFromPath(raw.output);
    // a file named for one format holding another fools every reader that trusts the name
    if (format && fromPath && format !== fromPath) {
      throw new UsageError(`"${raw.output}" is named for ${FORMAT_NAMES[fromPath]}, but the format asked for is ${FORMAT_NAMES[format]}: ` +
        'rename it or drop the format flag');
    }
    if (partition) format = format ?? fromPath ?? 'parquet'; // a folder: flows.parquet/ or flows.csv/ names its parts' format
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
  const compression = choice<Compression>('--compression', raw.compression);
  if (raw.compression !== undefined && format !== 'parquet') throw new UsageError('"--compression" applies to Parquet output only');
  const flowsPerFile = number('--flows-per-file', raw.flowsPerFile);
  const rotate = number('--rotate', raw.rotate);
  if ((flowsPerFile || rotate) && (raw.output === undefined || isStream(raw.output))) {
    const given = raw.output === undefined ? '' : ` (${raw.output} is not a file)`;
    throw new UsageError(`"--flows-per-file" and "--rotate" write several files: give a file's path with -o${given}`);
  }
  const rotateFiles = number('--rotate-files', raw.rotateFiles);
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
    output: raw.output, format, compression, flowsPerFile, rotateMs: Math.round(rotate * 1000), rotateFiles,
    partition, anonymize, anonymizeKey: raw.anonymizeKey,
    // 0: the writer's own size (the table's default), which the memory check tells apart
    rowGroupRows: raw.rowGroupSize === undefined && raw.rowGroupRows === undefined ? 0
      : number(raw.rowGroupSize !== undefined ? '--row-group-size' : '--row-group-rows', raw.rowGroupSize ?? raw.rowGroupRows),
    ipfix,
    stopStallMs: Math.round(number('--stop-timeout', raw.stopTimeout) * 1000),
    partitionSettleMs: partition ? meter.activeTimeoutMs + meter.idleTimeoutMs : undefined,
  };
}

/** Only text columns can be anonymised (addresses, MACs, names, fingerprints): a hash is text. */
function parseAnonymize(value: string | undefined, meter: MeterOptions): string[] {
  if (value === undefined) return [];
  const names = value.split(',').map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('"--anonymize" needs column names, e.g. src_ip,dst_ip');
  return anonymizableColumns(names, fieldsFor(meter), '"--anonymize"');
}

/** Columns to anonymise, each a text column of these fields (the CLI's --anonymize, the API's
 * anonymize): one that is not would be written as it is, unanonymised. */
export function anonymizableColumns(names: readonly string[], fields: readonly Field[], what: string): string[] {
  for (const n of names) {
    const field = fields.find((x) => x.name === n);
    if (!field) throw new UsageError(`${what}: no column "${n}" with these options (see: flowseek fields)`);
    if (field.type !== 'string') throw new UsageError(`${what}: "${n}" is a number; only text columns can be anonymised`);
  }
  return [...new Set(names)];
}

export function parseReadOptions(files: string[], raw: RawReadOptions & { systemVisibility?: boolean }): ReadOptions {
  if (files.length === 0) throw new UsageError('read needs at least one capture file');
  for (const file of files) notUtf8(undefined, file);
  if (raw.systemVisibility) {
    throw new UsageError('"--system-visibility" needs live traffic of this host: use it with "flowseek capture", not with a capture file');
  }
  const meter = parseMeterOptions(raw);
  const output = parseOutputOptions(raw, meter);
  if (output.output !== undefined && !output.partition) refuseInputAsOutput(files, output.output);
  const read: ReadOptions = {
    ...meter,
    ...output,
    files,
    workers: number('--workers', raw.workers),
    batchSize: batchSize(raw, output.format),
  };
  checkMemoryNeed(read, memoryDefaults(read, 1));
  return read;
}

/** Node reads its arguments as UTF-8 and puts U+FFFD for a byte that is not: a name that is not
 * UTF-8 reached flowseek as another name (an input "not found", or another file of the name with
 * U+FFFD read; an output written under a name not asked for). The arguments' bytes, in
 * /proc/self/cmdline, tell such a name from one that holds U+FFFD itself. */
function notUtf8(flag: string | undefined, name: string): void {
  if (!name.includes('\uFFFD') || !notUtf8Arguments().has(name)) return;
  throw new UsageError(`${flag ? `${flag} ` : ''}${JSON.stringify(name)}: a file name that is not UTF-8 cannot be given to flowseek (Node reads its arguments as UTF-8); rename the file or give it through a symlink`);
}

/** The process's arguments whose bytes are not UTF-8, as Node decoded them. */
function notUtf8Arguments(): Set<string> {
  let raw: Buffer;
  try {
    raw = fs.readFileSync('/proc/self/cmdline');
  } catch {
    return new Set(); // no /proc: every name is taken as Node gives it
  }
  const found = new Set<string>();
  for (let at = 0; at < raw.length;) {
    const end = raw.indexOf(0, at) < 0 ? raw.length : raw.indexOf(0, at);
    const bytes = raw.subarray(at, end);
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) found.add(text);
    at = end + 1;
  }
  return found;
}

/** -o naming one of the inputs replaced the capture by its own flows (exit 0). The name -o
 * replaces is compared, not what a symlink there points to (a symlink is replaced, not followed);
 * an input is compared as it is read, through its links. */
function refuseInputAsOutput(files: string[], output: string): void {
  let out: fs.Stats;
  try {
    // a descriptor's name (/dev/fd/5) is what it opens, not the link /proc shows for it
    out = DESCRIPTOR.test(output) ? fs.statSync(output) : fs.lstatSync(output);
  } catch {
    return; // no such file yet: no input is there
  }
  for (const file of files) {
    let input: fs.Stats;
    try {
      // standard input redirected from the output file (read - -o f < f) is that file
      input = file === '-' ? fs.fstatSync(0) : fs.statSync(file);
    } catch {
      continue; // said when the input is opened
    }
    if (!input.isFile()) continue; // a pipe or a terminal is no file -o could replace
    if (input.dev === out.dev && input.ino === out.ino) {
      const as = file === output ? '' : file === '-' ? ', read as standard input' : `, read as ${file}`;
      throw new UsageError(`"-o" names an input file (${output}${as}): the capture would be replaced by its flows; give the flows a file of their own`);
    }
  }
}

/** The same run with every option that sizes memory at its default. */
function memoryDefaults<T extends MeterOptions & OutputOptions & { batchSize: number; workers: number }>(o: T, workers: number): T {
  return { ...o, maxActiveFlows: numberDefault('--max-active-flows'), batchSize: batchSize({}, o.format), workers, rowGroupRows: 0,
    payloadBytes: numberDefault('--payload-bytes'), headerPackets: numberDefault('--header-bytes'), headerWidth: numberDefault('--header-width'),
    splt: numberDefault('--splt') };
}

/** Arrow IPC writes a record batch per native batch: its stream keeps the framing of 4096 flows
 * (other formats take the table's smaller default, which keeps V8's young generation small) */
const ARROW_BATCH_SIZE = 4096;
const batchSize = (raw: RawReadOptions, format: OutputFormat) =>
  raw.batchSize !== undefined || format !== 'arrow' ? number('--batch-size', raw.batchSize) : ARROW_BATCH_SIZE;

/** Live capture defaults to all cores but one for the workers (the parent writes). */
export function parseCaptureOptions(raw: RawCaptureOptions, cores: number): CaptureOptions {
  if (!raw.interface) throw new UsageError('capture needs an interface: -i IFACE (see: flowseek interfaces)');
  const meter = parseMeterOptions(raw, 'capture');
  if (meter.snaplen === 0) throw new UsageError('"--snaplen" must be at least 1 byte for a live capture');
  const output = parseOutputOptions(raw, meter);
  const capture: CaptureOptions = {
    ...meter,
    ...output,
    interface: raw.interface,
    promisc: raw.promisc ?? defaultOf('--no-promisc') === true,
    bufferBytes: number('--buffer-size', raw.bufferSize),
    // cores - 1 (the table's text), the parent writing: not held to the range a value given is
    workers: raw.workers === undefined ? Math.max(1, cores - 1) : number('--workers', raw.workers, 'capture'),
    durationMs: Math.round(number('--duration', raw.duration) * 1000),
    reportMs: Math.round(number('--report', raw.report) * 1000),
    systemVisibility: raw.systemVisibility === true,
    systemVisibilityPollMs: number('--system-visibility-poll-ms', raw.systemVisibilityPollMs),
    systemVisibilityMode: choice<SystemVisibilityMode>('--system-visibility-mode', raw.systemVisibilityMode),
    batchSize: batchSize(raw, output.format),
  };
  checkMemoryNeed(capture, memoryDefaults(capture, Math.max(1, cores - 1)));
  return capture;
}

/** "HOST:PORT", "udp://HOST:PORT", "tcp://HOST:PORT"; an IPv6 host in brackets. */
export function parseIpfix(raw: RawReadOptions): IpfixTarget | undefined {
  if (raw.ipfix === undefined) {
    if (raw.ipfixDomain !== undefined || raw.ipfixTemplateRefresh !== undefined || raw.ipfixTimeout !== undefined) {
      throw new UsageError('"--ipfix-domain", "--ipfix-template-refresh" and "--ipfix-timeout" go with --ipfix');
    }
    return undefined;
  }
  const m = /^(?:(udp|tcp):\/\/)?(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]]+)):(\d{1,5})$/.exec(raw.ipfix.trim());
  const port = m ? Number(m[4]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`"--ipfix" must be HOST:PORT, udp://HOST:PORT or tcp://HOST:PORT (IPv6 as [ADDR]:PORT), got "${raw.ipfix}"`);
  }
  return {
    transport: (m[1] ?? 'udp') as 'udp' | 'tcp', host: m[2] ?? m[3], port,
    domain: number('--ipfix-domain', raw.ipfixDomain),
    templateRefreshMs: 1000 * number('--ipfix-template-refresh', raw.ipfixTemplateRefresh),
    stallMs: 1000 * number('--ipfix-timeout', raw.ipfixTimeout),
  };
}
