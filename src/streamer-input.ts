/**
 * What a program hands `new FlowStreamer({...})`, checked before anything opens: a misspelt
 * option was ignored (the default stood for it, silently), a string for `files` failed inside
 * with "filter is not a function", a choice given by name was refused as "must be a number".
 * Ranges stay the addon's to check (it names the option and its range); the command line's own
 * runs build their options from checked ones and do not come through here.
 */
import { UsageError } from './errors';
import { ACCOUNTING_NAMES, TIME_PRECISIONS } from './option-table';
import type { StreamerInput, StreamerOptions } from './streamer';

/** What the value must be, or undefined when it is fine. */
type Check = (v: unknown) => string | undefined;

const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const num: Check = (v) => (typeof v === 'number' && !Number.isNaN(v) ? undefined : 'a number');
const text: Check = (v) => (typeof v === 'string' ? undefined : 'a string');
const oneOf = (choices: readonly (string | number)[]): Check => (v) =>
  choices.includes(v as string | number) ? undefined : `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
const files: Check = (v) =>
  Array.isArray(v) && v.every((f) => typeof f === 'string' && f !== '') ? undefined : 'an array of capture file names';
const plugins: Check = (v) => Array.isArray(v) && v.every((p) => typeof (p as { spec?: unknown })?.spec === 'string' &&
  typeof (p as { options?: unknown }).options === 'object' && (p as { options?: unknown }).options !== null)
  ? undefined : 'an array of { spec, options } (parseMeterOptions makes it from --plugin)';

/** Every option a FlowStreamer takes (tsc holds this list to StreamerOptions: one added there
 * and not here does not compile). */
const CHECKS = {
  files, interface: text, promisc: bool, bufferBytes: num, fanoutGroup: num, hashPartitions: num, hashPartition: num,
  systemVisibility: (v) => (v === false ? undefined : 'false (system visibility is the command line\'s: --system-visibility)'),
  yieldMs: num, reportNewFlows: bool,
  batchSize: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1 << 20 ? undefined : 'a whole number from 1 to 1048576'),
  idleTimeoutMs: num, activeTimeoutMs: num,
  accountingMode: oneOf([0, 1, 2, 3, ...ACCOUNTING_NAMES]),
  decodeTunnels: bool, bpf: text, snaplen: num, maxFlows: num, maxActiveFlows: num, stats: bool, splt: num, dissections: num,
  timePrecision: oneOf(TIME_PRECISIONS), activityFeatures: bool, activityGapMs: num, payloadBytes: num, headerPackets: num,
  headerWidth: num, communityId: bool, communityIdSeed: num, plugins, pluginErrors: oneOf(['count', 'fail']), pluginTimeoutMs: num,
} satisfies Record<keyof StreamerOptions, Check>;

/** Edits between two names (a misspelling is one or two). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

function unknown(key: string): UsageError {
  const near = Object.keys(CHECKS).map((k) => ({ k, d: k.toLowerCase() === key.toLowerCase() ? 0 : distance(k, key) }))
    .sort((x, y) => x.d - y.d)[0];
  return new UsageError(`FlowStreamer: unknown option "${key}"${near.d <= 2 ? ` (did you mean "${near.k}"?)` : ''}`);
}

/** The options as the meter takes them (an accounting mode by name becomes its number), or a
 * UsageError naming the first one wrong. */
export function checkStreamerInput(input: StreamerInput): StreamerInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new UsageError('FlowStreamer: the options must be an object, e.g. { files: [\'trace.pcap\'] }');
  }
  const checks: Record<string, Check> = CHECKS;
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(checks, key)) throw unknown(key);
    if (value === undefined) continue; // the default, as for an option left out
    const must = checks[key](value);
    if (must) throw new UsageError(`FlowStreamer: option ${key} must be ${must}, got ${describe(value)}`);
  }
  if ((input.files === undefined) === (input.interface === undefined)) {
    throw new UsageError(`FlowStreamer: give files (an array of capture file names) or an interface${input.files ? ', not both' : ''}`);
  }
  if (input.files?.length === 0) throw new UsageError('FlowStreamer: option files lists no file');
  const out: StreamerInput = { ...input };
  if (typeof input.accountingMode === 'string') out.accountingMode = ACCOUNTING_NAMES.indexOf(input.accountingMode) as 0 | 1 | 2 | 3;
  if (input.interface !== undefined && input.promisc === undefined) out.promisc = false; // the command line's default
  return out;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
