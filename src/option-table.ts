/**
 * The command-line options: one list, like FIELDS for the columns, in the man page's order. It
 * drives the commander options and --help (src/cli.ts), the checks and defaults (src/options.ts),
 * the values the native meter receives (src/native-options.ts) and the man page's option list
 * (src/manpage.ts). A default, a range or a help text lives here and nowhere else.
 *
 * In `help`, `man` and `must`, {default}, {min}, {max} and {choices} stand for the option's own
 * values; in `man`, **x** is bold and __x__ italic.
 */
import type { NativeOpenOptions } from './native';

export type CommandName = 'program' | 'read' | 'capture' | 'fields' | 'interfaces';
/** Where an option stands in the man page's list; some groups open with a heading (OPTION_HEADING in src/manpage.ts). */
export type OptionGroup = 'output' | 'meter' | 'beyond' | 'plugins' | 'program' | 'commands';
/** switch: no value; list: repeatable, collected in order; text with choices: checked by
 * src/options.ts, not by commander (other spellings are accepted there). */
export type OptionKind = 'switch' | 'number' | 'integer' | 'text' | 'choice' | 'list';
export type OptionDefault = number | string | boolean;

/** What differs when the option belongs to one command (capture's --snaplen, fields' --stats). */
export interface OptionVariant {
  help?: string;
  default?: OptionDefault;
  /** how help and the man page say a default that is computed (capture's workers: cores - 1) */
  defaultText?: string;
  /** on the command line but not in --help (read's --system-visibility, refused with a message) */
  hidden?: boolean;
}

export interface OptionSpec extends OptionVariant {
  /** '--idle-timeout', or '-o, --output' with a short form */
  flags: string;
  /** the value's name in --help and the man page; absent for a switch */
  arg?: string;
  kind: OptionKind;
  min?: number;
  max?: number;
  /** what a value must be: `"--splt" must be <must>, got "0"` */
  must?: string;
  choices?: readonly string[];
  help: string;
  /** the man page's text; absent: listed with the option before it, which explains both */
  man?: string;
  group: OptionGroup;
  commands: readonly CommandName[];
  variants?: Partial<Record<CommandName, OptionVariant>>;
  required?: boolean;
  /** the native meter's key for the parsed value (src/native-options.ts); a choice goes as its index */
  native?: keyof NativeOpenOptions;
  /** the parsed options' key, where it is not the native one */
  parsed?: string;
}

/** Here, not in log.ts: this table is loaded by every lane thread and worker, log.ts loads pino (~30 ms) */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const ACCOUNTING_NAMES = ['raw', 'ip', 'transport', 'payload'] as const;
export const COMPRESSIONS = ['zstd', 'snappy', 'gzip', 'none'] as const;
export const FORMATS = ['csv', 'jsonl', 'parquet', 'arrow'] as const;
export const TIME_PRECISIONS = ['ms', 'us', 'ns'] as const;

const RUN = ['read', 'capture'] as const;
const COLUMNS = ['read', 'capture', 'fields'] as const;
const CAPTURE = ['capture'] as const;

/** Kept literal (as const) so the options' value types are derived from it (RawOptionsOf). */
const TABLE = [
  // where flows go
  { flags: '-o, --output', arg: 'path', kind: 'text', group: 'output', commands: RUN,
    help: 'write to this file (format from .csv / .jsonl / .parquet / .arrow), or dataset folder; default standard output',
    man: 'Write to a file; the format comes from its extension (.csv, .jsonl, .parquet, .arrow). The file is written ' +
      'under a temporary name (created exclusively, never through a symlink), synced to disk and renamed ' +
      'when complete: it appears whole, and a symlink at the final name is replaced, not followed. A regular ' +
      'file it replaces gives it its mode (less setuid, setgid and sticky), its access list (ACL) and, when run as root or as the ' +
      'file\'s owner, its owner and group; a new file is 0666 less the umask. An input file is never an output. A FIFO, ' +
      'a device, or /dev/stdout and /dev/fd/N (a descriptor the caller opened for writing) are written directly. ' +
      'With **--partition**, a dataset folder.' },
  { flags: '--csv', kind: 'switch', group: 'output', commands: RUN, help: 'CSV output (the default on standard output)',
    man: 'Choose the format. CSV is the default on standard output; Parquet needs **-o**.' },
  { flags: '--jsonl', kind: 'switch', group: 'output', commands: RUN, help: 'JSON Lines output' },
  { flags: '--parquet', kind: 'switch', group: 'output', commands: RUN, help: 'Parquet output (needs -o)' },
  { flags: '--format', arg: 'format', kind: 'choice', choices: FORMATS, group: 'output', commands: RUN,
    help: 'output format (arrow: Arrow IPC, a stream on standard output)',
    man: 'The same, by name. Arrow IPC is written in the file format to a file, and in the stream format ' +
      'to standard output, a FIFO or a .arrows file, with the types of the Parquet columns.' },
  { flags: '--compression', arg: 'codec', kind: 'choice', choices: COMPRESSIONS, default: 'zstd', group: 'output', commands: RUN,
    help: 'Parquet page compression (default: {default})', man: 'Parquet page compression (default {default}).' },
  // DuckDB's row group size: its readers, polars' and pyarrow's scan a group per thread, and a
  // filter on time or label skips whole groups of this size
  { flags: '--row-group-size', arg: 'flows', kind: 'integer', min: 1, max: 1 << 24, must: 'a whole number of flows from {min} to {max}',
    default: 122_880, group: 'output', commands: RUN,
    help: 'Parquet flows per row group, the unit readers skip by statistics (default: {default})',
    man: 'Parquet flows per row group (default {default}). Every column chunk and page carries its min, max and ' +
      'null count, so readers skip the row groups a filter rules out; text is dictionary-encoded. ' +
      'Parquet and Arrow add bidirectional_first_seen and bidirectional_last_seen, the *_seen_ms ' +
      'times as UTC timestamps; the *_ms columns stay integers.' },
  { flags: '--row-group-rows', arg: 'n', kind: 'integer', min: 1, max: 1 << 24, must: 'a whole number of flows from {min} to {max}',
    group: 'output', commands: RUN, hidden: true, help: 'Parquet rows per row group' },
  { flags: '--flows-per-file', arg: 'n', kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER, must: 'a whole number of flows from {min} to {max}',
    group: 'output', commands: RUN, help: 'start a new output file after n flows (flows.0.csv, flows.1.csv, ...)',
    man: 'Start a new file after n flows: flows.0.csv, flows.1.csv, and so on. A file already there is ' +
      'never replaced: numbering starts after the highest one found (a second run goes on from there), ' +
      'and a name taken meanwhile is skipped.' },
  { flags: '--rotate', arg: 'seconds', kind: 'number', min: 0.001, max: 1e9, must: 'a number of seconds from {min} to {max}',
    group: 'output', commands: RUN, help: 'start a new output file after this much flow time',
    man: 'Start a new file once this much flow time has passed since the file began.' },
  { flags: '--rotate-files', arg: 'n', kind: 'integer', min: 1, max: 1e9, must: 'a whole number of files from {min} to {max}',
    group: 'output', commands: RUN, help: 'with --flows-per-file or --rotate: keep the newest n files, deleting the oldest (a ring)',
    man: 'With **--flows-per-file** or **--rotate**: a ring. Once a file is published, the ' +
      'oldest of this run\'s files is deleted if more than n are left, capping disk use. Unlike ' +
      'NFStream\'s rotate_files, which reuses the names 0 to n-1, the numbers keep growing, so no file is ' +
      'ever replaced under a reader and the highest number is the newest. Files from before the run are ' +
      'never deleted. Not with **--partition**.' },
  { flags: '--partition', arg: 'by', kind: 'choice', choices: ['hour', 'day'], group: 'output', commands: RUN,
    help: 'write a Hive-style dataset under -o DIR: dt=YYYY-MM-DD[/hour=HH]/part-N',
    man: 'Write a Hive-style dataset under the **-o** folder, by the UTC time of each flow\'s first packet: ' +
      'dt=YYYY-MM-DD/hour=H/part-N.parquet. Files already there are never replaced; a new run adds parts. ' +
      'The folder keeps one schema (_flowseek_schema.json): a run with other columns or another format ' +
      'is refused, saying what differs. Default format: Parquet.' },
  { flags: '--ipfix', arg: 'target', kind: 'text', group: 'output', commands: RUN,
    help: 'send each flow to an IPFIX collector: HOST:PORT (UDP), udp://HOST:PORT or tcp://HOST:PORT (without -o, only there)',
    man: 'Send each finished flow to an IPFIX collector (RFC 7011): HOST:PORT or udp://HOST:PORT over UDP ' +
      '(templates resent on schedule, messages under 1400 bytes), tcp://HOST:PORT over TCP; an IPv6 host ' +
      'as [ADDR]:PORT. Records are biflows: the src2dst counters as octetTotalCount and packetTotalCount, ' +
      'the dst2src ones as their RFC 5103 reverse elements, flowStartMilliseconds, flowEndMilliseconds, ' +
      'flowEndReason, vlanId, and applicationName where detection is on. Without **-o** the ' +
      'collector is the only output.' },
  { flags: '--ipfix-domain', arg: 'id', kind: 'integer', min: 0, max: 4294967295, must: 'a whole number from {min} to {max}', default: 0,
    group: 'output', commands: RUN, help: 'IPFIX observation domain id (default: {default})',
    man: 'The observation domain id of the messages, {min} to {max} (default {default}).' },
  { flags: '--ipfix-template-refresh', arg: 'seconds', kind: 'number', min: 0.001, max: 86400, must: 'a number of seconds from {min} to {max}', default: 60,
    group: 'output', commands: RUN, help: 'IPFIX over UDP: send the templates again this often (default: {default})',
    man: 'Over UDP, send the templates again this often (default {default}).' },
  { flags: '--ipfix-timeout', arg: 'seconds', kind: 'number', min: 0.1, max: 86400, must: 'a number of seconds from {min} to {max}', default: 15,
    group: 'output', commands: RUN, help: 'IPFIX over TCP: a collector that answers no connection or takes nothing for this long ends the run (default: {default})',
    man: 'Over TCP, a collector that does not answer the connection, or takes no byte for this long while flows wait ' +
      '(default {default}), ends its export with an error (exit 1): a capture stops, a read goes on for its file outputs, ' +
      'which get every flow. At the end, the run waits for the collector to acknowledge every byte: one that takes ' +
      'none of the last bytes for this long fails the run. After a stop ' +
      '(a signal, --duration, --max-flows) one that takes nothing for 2 s is given up.' },
  { flags: '--anonymize', arg: 'columns', kind: 'text', group: 'output', commands: RUN,
    help: 'replace these text columns (e.g. src_ip,dst_ip,src_mac,dst_mac) with a keyed hash',
    man: 'Replace these text columns (for example src_ip,dst_ip,src_mac,dst_mac) with HMAC-SHA256 under a key, ' +
      'in hex: equal values stay equal, distinct ones distinct. Empty values stay empty.' },
  { flags: '--anonymize-key', arg: 'key', kind: 'text', defaultText: 'random per run', group: 'output', commands: RUN,
    help: 'the key for --anonymize, to keep the mapping stable across runs (default: {default})',
    man: 'The key for **--anonymize**, so the mapping is the same across runs (default: {default}).' },
  { flags: '--stop-timeout', arg: 'seconds', kind: 'number', min: 0.1, max: 86400, must: 'a number of seconds from {min} to {max}', default: 10,
    group: 'output', commands: RUN,
    help: 'after a stop (signal, --duration, --max-flows), end meters that hand over no flow for this long (default: {default})',
    man: 'After a stop (a signal, --duration, --max-flows), meters that hand over no flow for this long ' +
      '(default {default}) are ended by force: the flows already received are written and the run exits 1. ' +
      'An output that takes no byte for as long after a stop (a pipe nobody reads) ends the run, its file not written (exit 1).' },
  // the meter, as NFStream's
  { flags: '--idle-timeout', arg: 'seconds', kind: 'number', min: 0, max: 1e9, must: 'a number of seconds from {min} to {max}', default: 120,
    group: 'meter', commands: RUN, native: 'idleTimeoutMs',
    help: 'end a flow idle this long (default: {default})', man: 'End a flow idle this long (default {default}).' },
  { flags: '--active-timeout', arg: 'seconds', kind: 'number', min: 0, max: 1e9, must: 'a number of seconds from {min} to {max}', default: 1800,
    group: 'meter', commands: RUN, native: 'activeTimeoutMs',
    help: 'end a flow this old (default: {default})', man: 'End a flow this old (default {default}).' },
  { flags: '--accounting-mode', arg: 'mode', kind: 'text', choices: ACCOUNTING_NAMES, must: 'one of {choices} (or 0-3)', default: 'raw',
    group: 'meter', commands: RUN, native: 'accounting', parsed: 'accountingMode',
    help: 'bytes counted per packet: {choices} (or 0-3) (default: {default})',
    man: 'Bytes counted per packet: {choices}, or their numbers 0 to 3 (default {default}).' },
  { flags: '--no-decode-tunnels', kind: 'switch', group: 'meter', commands: COLUMNS, native: 'decodeTunnels',
    help: 'do not decode GTP-U, CAPWAP, TZSP, VXLAN, GRE (drops tunnel_id)',
    man: 'Do not decode GTP-U, CAPWAP, TZSP, VXLAN or GRE; the tunnel_id column is dropped.',
    variants: { fields: { help: 'without tunnel_id' } } },
  { flags: '--bpf', arg: 'filter', kind: 'text', group: 'meter', commands: RUN, native: 'bpf',
    help: 'BPF filter applied to every packet (tcpdump syntax)', man: 'Only packets matching this filter (tcpdump syntax).' },
  { flags: '--snaplen', arg: 'bytes', kind: 'integer', min: 0, max: 262144, must: 'a whole number of bytes from {min} (keep all) to {max}', default: 0,
    group: 'meter', commands: RUN, native: 'snaplen',
    help: 'look at no more than this many bytes of each packet (0: all)',
    man: 'Look at no more than this many bytes of each packet, {min} to {max} (**read**: default {default}, all of it; ' +
      '**capture**: default {default:capture}, and at least 1).',
    variants: { capture: { default: 1536, help: 'bytes kept of each packet (default: {default})' } } },
  { flags: '--max-flows', arg: 'n', kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER, must: 'a whole number of flows from {min} to {max}', default: 0,
    group: 'meter', commands: RUN, native: 'maxFlows', help: 'stop after exporting this many flows', man: 'Stop after n flows.' },
  { flags: '--max-active-flows', arg: 'n', kind: 'integer', min: 0, max: 1e9, must: 'a whole number of flows from {min} (no limit) to {max}',
    // about 1.1 GB of flow records with detection running on every one: generous, yet bounded
    default: 1_000_000, group: 'meter', commands: RUN, native: 'maxActiveFlows',
    help: 'open flows at most; beyond, the oldest ends early (expiration_id 2; 0: no limit) (default: {default})',
    man: 'Keep at most n flows open in the whole run (default {default}; 0 no limit; with several workers each ' +
      'keeps its share): beyond, the oldest open flow ends early, ' +
      'with expiration_id 2, and the summary counts them. Memory stays bounded whatever the input. ' +
      'Values whose worst case (open flows in every meter, a batch, Parquet row groups, each flow sized by ' +
      '**--payload-bytes**, **--header-bytes**, **--splt**) could need more than the ' +
      'machine\'s memory are refused with the figure (exit 2); the defaults never are.' },
  { flags: '--dissections', arg: 'n', kind: 'integer', min: 0, max: 255, must: 'a whole number of packets from {min} (off) to {max}', default: 20,
    group: 'meter', commands: COLUMNS, native: 'dissections',
    help: 'packets per flow given to nDPI for application detection (0: off) (default: {default})',
    man: 'Packets per flow handed to nDPI for application detection, {min} to {max} (default {default}); 0 turns detection off.',
    variants: { fields: { help: 'application columns unless 0 (default: {default})' } } },
  { flags: '--stats', kind: 'switch', group: 'meter', commands: COLUMNS, native: 'stats',
    help: 'add the 48 statistical features (packet sizes, inter-arrival times, TCP flags)', man: 'Add the 48 statistical features.',
    variants: { fields: { help: 'include the statistical features' } } },
  { flags: '--splt', arg: 'n', kind: 'integer', min: 1, max: 255, must: 'a whole number of packets from {min} to {max}', default: 0,
    group: 'meter', commands: COLUMNS, native: 'splt',
    help: 'add direction, size and inter-arrival time of the first n packets ({min}-{max})',
    man: 'Add the direction, size and inter-arrival time of the first n packets ({min} to {max}).',
    variants: { fields: { help: 'include the SPLT lists' } } },
  // beyond NFStream
  { flags: '--time-precision', arg: 'unit', kind: 'choice', choices: TIME_PRECISIONS, default: 'ms', group: 'beyond', commands: COLUMNS,
    native: 'timePrecision', help: 'add first/last seen and duration in us or ns (at the capture\'s precision)',
    man: 'Add first seen, last seen and duration in microseconds or nanoseconds, read at the capture\'s own ' +
      'precision (nanosecond pcap files, pcapng if_tsresol, the interface\'s timestamps). The *_ms fields stay. ' +
      'Nanosecond times pass 2^53: exact in CSV, JSON Lines and Parquet (INT64); JavaScript\'s JSON.parse rounds them.',
    variants: { fields: { help: 'include the microsecond or nanosecond times' } } },
  { flags: '--activity-features', kind: 'switch', group: 'beyond', commands: COLUMNS, native: 'activity', parsed: 'activityFeatures',
    help: 'add CICFlowMeter-style rates and active/idle period statistics',
    man: 'Add CICFlowMeter-style bytes/s and packets/s per direction (over the flow\'s duration) and the ' +
      'minimum, mean, maximum and standard deviation of active and idle periods.',
    variants: { fields: { help: 'include the rate and active/idle columns' } } },
  // CICFlowMeter's activity timeout
  { flags: '--activity-gap', arg: 'seconds', kind: 'number', min: 0.000001, max: 1e6, must: 'a number of seconds from {min} to {max}', default: 5,
    group: 'beyond', commands: RUN, native: 'activityGapMs',
    help: 'a gap longer than this ends an active period (default: {default}; implies --activity-features)',
    man: 'A gap between packets longer than this ends an active period and counts as an idle one ' +
      '(default {default}, CICFlowMeter\'s); implies **--activity-features**.' },
  { flags: '--payload-bytes', arg: 'n', kind: 'integer', min: 1, max: 65535, must: 'a whole number of bytes from {min} to {max}', default: 0,
    group: 'beyond', commands: COLUMNS, native: 'payloadBytes',
    help: 'add the first n bytes of L4 payload (both directions, packet order, zero-padded)',
    man: 'Add payload_bytes: the first n bytes of L4 payload of the flow, both directions in packet order, ' +
      'zero-padded (Parquet FIXED_LEN_BYTE_ARRAY, hex in CSV and JSON Lines), and payload_bytes_len ({min} to {max}).',
    variants: { fields: { help: 'include payload_bytes' } } },
  { flags: '--header-bytes', arg: 'n', kind: 'integer', min: 1, max: 255, must: 'a whole number of packets from {min} to {max}', default: 0,
    group: 'beyond', commands: COLUMNS, native: 'headerPackets',
    help: 'add the IP+transport headers of the first n packets, addresses and ports zeroed',
    man: 'Add header_bytes: the IP and transport headers of the first n packets ({min} to {max}), addresses, ' +
      'ports and checksums zeroed, each cut or zero-padded to **--header-width** bytes; ' +
      'and header_bytes_packets.',
    variants: { fields: { help: 'include header_bytes' } } },
  // IPv4 with options or IPv6, and TCP with most options
  { flags: '--header-width', arg: 'bytes', kind: 'integer', min: 20, max: 1024, must: 'a whole number of bytes from {min} to {max}', default: 64,
    group: 'beyond', commands: RUN, native: 'headerWidth',
    help: 'bytes kept of each header for --header-bytes (default: {default})',
    man: 'Bytes kept of each header for **--header-bytes** ({min} to {max}; default {default}).' },
  { flags: '--community-id', kind: 'switch', group: 'beyond', commands: COLUMNS, native: 'communityId',
    help: 'add community_id (Community ID v1 flow hash)',
    man: 'Add community_id, the Community ID v1 hash of the 5-tuple, as Zeek, Suricata and Elastic compute it.',
    variants: { fields: { help: 'include community_id' } } },
  { flags: '--community-id-seed', arg: 'n', kind: 'integer', min: 0, max: 65535, must: 'a whole number from {min} to {max}', default: 0,
    group: 'beyond', commands: RUN, native: 'communityIdSeed',
    help: 'seed of the Community ID hash, {min}-{max} (implies --community-id)',
    man: 'Its seed, {min} to {max} (default {default}); implies **--community-id**.' },
  // plugins
  { flags: '--plugin', arg: 'name|file', kind: 'list', group: 'plugins', commands: RUN,
    help: 'run a plugin (shipped: dhcp, mdns, model; or a .js, .mjs, .ts module); repeatable',
    man: 'Run a plugin: a shipped one (dhcp, mdns, model) or a module (.js, .cjs, .mjs, .ts). Repeatable.' },
  { flags: '--plugin-option', arg: 'key=value', kind: 'list', group: 'plugins', commands: RUN,
    help: 'an option for the plugins (name.key=value for one of them); repeatable',
    man: 'An option for every plugin, or with name.key=value for one; numbers and true/false arrive typed. Repeatable.' },
  { flags: '--plugin-errors', arg: 'mode', kind: 'choice', choices: ['count', 'fail'], default: 'count', group: 'plugins', commands: RUN,
    help: 'a hook that throws: count it and go on, or fail the run',
    man: 'A hook that throws is counted and reported once at the end (count, the default), or ends the run (fail). ' +
      'A plugin value that cannot be written (a BigInt, a cycle) counts as a hook error and is written empty.' },
  { flags: '--plugin-timeout', arg: 'seconds', kind: 'number', min: 0.1, max: 86400, must: 'a number of seconds from {min} to {max}', default: 60,
    group: 'plugins', commands: RUN, help: 'an onStart or onBatch promise not settled after this long ends the run (default: {default})',
    man: 'An onStart or onBatch promise not settled after this long (default {default}) ends the run with an error. ' +
      'A plugin or model file that others than its owner can write (or in a folder they can write) is refused. ' +
      'In **capture**, plugins are loaded by the workers after they drop their privileges.' },
  { flags: '--model', arg: 'file', kind: 'text', group: 'plugins', commands: RUN, help: 'plugin model: the ONNX model to run on each flow',
    man: 'With **--plugin model**: the ONNX model to run on each flow.' },
  { flags: '--features', arg: 'columns', kind: 'text', group: 'plugins', commands: RUN, help: 'plugin model: the columns the model takes, in order',
    man: 'With **--plugin model**: the columns making each model input: scalars as [N, k]; ' +
      '**payload_bytes** as [N, L] (uint8, or float scaled to 0..1); **header_bytes** as [N, P, W]; ' +
      '**splt** (or some **splt_*** lists) as [N, C, S]. Inputs are separated by **;** and may be ' +
      'named (__input__**=**__columns__). Type and sizes come from the model; a mismatch is named.' },
  { flags: '--predict-at', arg: 'n', kind: 'integer', min: 1, max: 1e9, must: 'a whole number of packets from {min} to {max}', defaultText: 'at its end',
    group: 'plugins', commands: RUN,
    help: 'plugin model: predict from the flow as it stood at its nth packet (default: {default})',
    man: 'With **--plugin model**: predict from the flow as it stood at its nth packet (counters, ' +
      'payload and header bytes, SPLT), while it is still open (default: {default}).' },
  { flags: '--predictions', arg: 'file', kind: 'text', group: 'plugins', commands: RUN,
    help: 'plugin model: also write each prediction as it is made, a JSON line with the flow\'s key',
    man: 'With **--plugin model**: also write each prediction as it is made, one JSON line with the ' +
      'flow\'s key (and **early** true for a flow still open). An existing file is not overwritten.' },
  // the whole program
  { flags: '-q, --quiet', kind: 'switch', group: 'program', commands: ['program'], help: 'only warnings and errors on stderr',
    man: 'Only warnings and errors on standard error, and no progress line.' },
  { flags: '--log-level', arg: 'level', kind: 'choice', choices: LOG_LEVELS, default: 'info', group: 'program', commands: ['program'],
    help: 'log level on stderr (default: {default})',
    man: 'fatal, error, warn, info (the default), debug (also names each file written), trace or silent.' },
  { flags: '--log-format', arg: 'format', kind: 'choice', choices: ['pretty', 'json'], default: 'pretty', group: 'program', commands: ['program'],
    help: 'log line format on stderr (default: {default})',
    man: 'One plain line per message (the default), or pino\'s JSON lines for log pipelines.' },
  { flags: '--verbose', kind: 'switch', group: 'program', commands: ['program'], help: 'show the cause of an error',
    man: 'With an error, also show its cause.' },
  // one command's own
  { flags: '--json', kind: 'switch', group: 'commands', commands: ['fields', 'interfaces'], help: 'as a JSON array',
    man: '**fields** and **interfaces**: a JSON array instead of a table.',
    variants: { fields: { help: 'one JSON array instead of a table' } } },
  { flags: '--workers', arg: 'n', kind: 'integer', min: 1, max: 64, must: 'a whole number of processes from {min} to {max}', default: 1,
    group: 'commands', commands: RUN,
    help: 'meters, each keeping the flows of one hash partition of the host pairs (threads, each reading the files; ' +
      'processes when plugins are loaded) (default: {default})',
    man: 'Meters, {min} to {max}: for **read**, each keeps the flows of one hash partition of the host pairs ' +
      '(default {default}); they are threads, each reading the files (a FIFO or standard input is read once, for all), ' +
      'or worker processes when plugins are ' +
      'loaded (each runs its own copy); for ' +
      '**capture**, each is a worker process, one fanout member (default: {default:capture}).',
    variants: { capture: { defaultText: 'cores - 1', help: 'meter processes sharing the interface through PACKET_FANOUT (default: {default})' } } },
  { flags: '-i, --interface', arg: 'name', kind: 'text', group: 'commands', commands: CAPTURE, required: true,
    help: 'the interface to capture on (see: flowseek interfaces)', man: '**capture**: the interface.' },
  { flags: '--no-promisc', kind: 'switch', group: 'commands', commands: CAPTURE, native: 'promisc',
    help: 'do not put the interface in promiscuous mode', man: '**capture**: leave the interface out of promiscuous mode.' },
  { flags: '--buffer-size', arg: 'bytes', kind: 'integer', min: 0, max: 2 ** 31 - 1, must: 'a whole number of bytes', default: 0,
    defaultText: 'libpcap\'s', group: 'commands', commands: CAPTURE, native: 'bufferBytes',
    help: 'kernel capture buffer per worker (default: {default})', man: '**capture**: the kernel buffer of each worker (default: {default}).' },
  { flags: '--duration', arg: 'seconds', kind: 'number', min: 0.001, max: 1e9, must: 'a number of seconds from {min} to {max}',
    group: 'commands', commands: CAPTURE, help: 'stop after this long', man: '**capture**: stop after this long.' },
  { flags: '--report', arg: 'seconds', kind: 'number', min: 0.1, max: 1e9, must: 'a number of seconds from {min} to {max}',
    group: 'commands', commands: CAPTURE, help: 'every this many seconds, a line of counters on stderr',
    man: '**capture**: a line of counters on standard error this often: packets, ignored, dropped by the ' +
      'kernel, flows active and exported, packets per worker.' },
  { flags: '--system-visibility', kind: 'switch', group: 'commands', commands: COLUMNS,
    help: 'add the pid, name, command line and user of the local process behind each flow',
    man: '**capture**: add system_process_pid, system_process_name, system_process_cmdline, ' +
      'system_process_uid and system_process_user, the local process that owned each flow\'s socket, from ' +
      'kernel events where BPF can be used, else by polling the socket tables ' +
      '(**--system-visibility-mode**; one line on standard error says which, and why). ' +
      'With BPF, the kernel reports every socket of the capture\'s network namespace at the moment it ' +
      'connects, accepts, sends or receives a UDP datagram with an address, or binds, with its process, ' +
      'user and command line read at that moment: a connection that lives a millisecond is attributed, ' +
      'to a process that may have exited since. Flows are matched by 5-tuple from either end, then by a ' +
      'socket sending from any address, then by the socket bound to the local end. ' +
      'Polling: each new TCP or UDP flow\'s sockets are looked up by its ' +
      '5-tuple (netlink sock_diag) within one poll interval of its first packet, the whole socket tables ' +
      'are read once a second for what a lookup missed (/proc/net/tcp, tcp6, udp, udp6 at every poll where ' +
      'the kernel lacks sock_diag), and owners come from /proc/PID/fd. A flow whose own socket was not seen ' +
      'goes to the process listening on (TCP) or bound to (UDP) its local port. ' +
      'A connection that opens and closes within one poll interval may stay unattributed (pid 0). ' +
      'Either way sockets stay known for the idle timeout plus a minute after they close. ' +
      '**read** refuses it; **fields** lists the columns it adds.',
    variants: {
      read: { hidden: true, help: 'capture only: refused here with a message' },
      fields: { help: 'include the system_process columns (capture)' },
    } },
  { flags: '--system-visibility-mode', arg: 'mode', kind: 'choice', choices: ['bpf', 'poll', 'auto'], default: 'auto', group: 'commands', commands: CAPTURE,
    help: 'bpf: kernel events (every socket, however short); poll: sock_diag lookups; auto: bpf where it loads, else poll (default: {default})',
    man: '**bpf**: kernel events, and an error where they cannot be had (no CAP_BPF and CAP_PERFMON or ' +
      'CAP_SYS_ADMIN, a locked-down kernel, a kernel without BTF, or a flowseek built without clang and ' +
      'libbpf); **poll**: sock_diag lookups; **auto** (the default): bpf where it loads, else poll.' },
  { flags: '--system-visibility-poll-ms', arg: 'ms', kind: 'integer', min: 10, max: 60000, must: 'a whole number of milliseconds from {min} to {max}',
    default: 100, group: 'commands', commands: CAPTURE,
    help: 'how soon each new flow\'s sockets are looked up for --system-visibility, poll mode (default: {default})',
    man: 'Poll mode: how soon a new flow\'s sockets are looked up, and how often owners still missing are looked for ' +
      '({min} to {max}; default {default}; workers report new flows at least once a second).' },
  // not shown: for tests and measurements
  { flags: '--batch-size', arg: 'flows', kind: 'integer', min: 1, max: 1 << 20, must: 'a whole number of flows from {min} to {max}', default: 1024,
    group: 'commands', commands: RUN, hidden: true, help: 'flows per native batch (Arrow IPC: 4096 unless given)' },
] as const satisfies readonly OptionSpec[];

export const OPTIONS: readonly OptionSpec[] = TABLE;

/** A number as typed on the command line, or as a program passes it. */
export type NumberText = string | number;

/** 'idle-timeout' → 'idleTimeout' */
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** '-o, --output' → 'output', '--no-decode-tunnels' → 'decodeTunnels': optionKey() at the type level */
type KeyOf<F extends string> = F extends `${string}, ${infer L}` ? KeyOf<L> : F extends `--no-${infer L}` ? Camel<L>
  : F extends `--${infer L}` ? Camel<L> : never;
type ValueOf<K extends OptionKind> = K extends 'switch' ? boolean : K extends 'list' ? string[] : K extends 'integer' | 'number' ? NumberText : string;

/** What commander hands over for a command's options (text as typed, booleans for switches, lists
 * as arrays), typed from the table; a program may pass numbers where the command line has text. */
export type RawOptionsOf<C extends CommandName> = {
  [O in (typeof TABLE)[number] as C extends O['commands'][number] ? KeyOf<O['flags']> : never]?: ValueOf<O['kind']>;
};

/** '--no-decode-tunnels' → 'decodeTunnels', as commander names the value. */
export function optionKey(spec: OptionSpec): string {
  const long = longFlag(spec).replace(/^--(no-)?/, '');
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function longFlag(spec: OptionSpec): string {
  return spec.flags.split(', ').pop() as string;
}

const BY_FLAG = new Map(OPTIONS.map((o) => [longFlag(o), o]));

/** The option with this long flag, as it is for one command (its variant applied). */
export function option(flag: string, command?: CommandName): OptionSpec {
  const spec = BY_FLAG.get(flag);
  if (!spec) throw new Error(`no option ${flag} in src/option-table.ts`);
  const variant = command ? spec.variants?.[command] : undefined;
  if (!variant) return spec;
  const merged: OptionSpec = { ...spec, ...variant };
  // a variant's own default replaces the text that said the base default
  if (variant.default !== undefined && variant.defaultText === undefined) delete merged.defaultText;
  return merged;
}

/** The default of an option for a command (a switch not given is false; --no-x's is true). */
export function defaultOf(flag: string, command?: CommandName): OptionDefault | undefined {
  const spec = option(flag, command);
  if (spec.kind === 'switch') return spec.default ?? spec.flags.startsWith('--no-');
  return spec.default;
}

export function numberDefault(flag: string, command?: CommandName): number {
  return Number(defaultOf(flag, command) ?? 0);
}

/** 'a, b or c' */
export function either(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** `text` with the option's {default}, {default:command}, {min}, {max} and {choices}. */
export function expand(text: string, spec: OptionSpec): string {
  const said = (s: OptionSpec) => s.defaultText ?? String(s.default);
  return text.replace(/\{(default(?::(\w+))?|min|max|choices)\}/g, (_, what: string, command?: CommandName) => {
    if (command) return said(option(longFlag(spec), command));
    if (what === 'default') return said(spec);
    if (what === 'choices') return (spec.choices ?? []).join(', ');
    return String(what === 'min' ? spec.min : spec.max);
  });
}

/** The options of one command, in the table's order, as they are for it. */
export function optionsOf(command: CommandName): OptionSpec[] {
  return OPTIONS.filter((o) => o.commands.includes(command)).map((o) => option(longFlag(o), command));
}
