/** The flowseek command line: parse once, run, map every failure to one line and an exit code. */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, FlowseekError } from './errors';
import { createLogger, LOG_LEVELS, LogFormat, LogLevel } from './log';
import { ACCOUNTING_NAMES, COMPRESSIONS, DEFAULTS, parseCaptureOptions, parseMeterOptions, parseReadOptions, RawCaptureOptions, RawReadOptions } from './options';
import { fieldsFor } from './schema';
import { FlowStreamer } from './streamer';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { ProgressBar } from './progress';
import { loadNative } from './native';
import { FlowSource, runFlows } from './run';
import { SocketPoller, SystemVisibility } from './system/visibility';
import { checkPluginFiles } from './plugins/load';
import { openPluginRecords, withPluginRecords } from './plugins/records-file';
import { LaneSet } from './workers/lanes';
import { WorkerPool } from './workers/pool';

const VERSION: string = require('../../package.json').version;

interface GlobalOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
  quiet?: boolean;
  verbose?: boolean;
}

function fileSize(file: string): number {
  try { return fs.statSync(file).size; } catch { return 0; }
}

async function runRead(files: string[], raw: RawReadOptions, g: GlobalOptions): Promise<number> {
  const log = createLogger(g.quiet ? 'warn' : g.logLevel, g.logFormat);
  const opts = parseReadOptions(files, raw);
  // a progress line on a terminal only: never in a pipe, a log file or cron mail
  const showProgress = process.stderr.isTTY === true && !g.quiet && opts.workers === 1 && !['warn', 'error', 'fatal', 'silent'].includes(g.logLevel);
  let source: FlowSource;
  if (opts.workers > 1 && !opts.plugins?.length) {
    source = new LaneSet(opts, opts.workers);
    const cores = os.availableParallelism();
    if (opts.workers > cores) log.warn(`--workers ${opts.workers}: more lanes than the ${cores} cores this process may use; lanes beyond that share them and add no speed`);
  } else if (opts.workers > 1) {
    // plugins run JavaScript per packet: each worker process runs its own copy
    await FlowStreamer.checkPlugins(opts);
    FlowStreamer.check(opts);
    const pool = new WorkerPool(opts, opts.workers);
    pool.onWarning = (m) => log.warn(m);
    pool.onPluginRecords = (r) => records?.write(r);
    source = pool;
  } else {
    const streamer = new FlowStreamer({ ...opts, yieldMs: showProgress ? 200 : 0 });
    streamer.onPluginRecords = (r) => records?.write(r);
    await streamer.loadPlugins();
    streamer.open();
    source = streamer;
  }
  // opened once the plugins have loaded: a run that cannot start leaves no file
  const records = openPluginRecords(opts.plugins);
  const inputLabel = `in ${files.length} file${files.length === 1 ? '' : 's'}`;
  const progress = showProgress ? new ProgressBar(files.reduce((n, f) => n + fileSize(f), 0)) : undefined;
  return withPluginRecords(records, () => runFlows(source, { ...opts, inputLabel, live: false, progress }, log));
}

async function runCapture(raw: RawCaptureOptions, g: GlobalOptions): Promise<number> {
  const log = createLogger(g.quiet ? 'warn' : g.logLevel, g.logFormat);
  const opts = parseCaptureOptions(raw, os.availableParallelism());
  // open once here so a missing interface, a permission, a bad filter or a plugin that does not
  // load fails before any worker starts
  // plugins are not run here (this process keeps its privileges): their files are checked, and
  // the workers load them once they have dropped theirs
  checkPluginFiles(opts.plugins ?? []);
  FlowStreamer.check({ ...opts, systemVisibility: false });
  // system visibility: workers report each new flow within a poll interval, to be looked up
  const reportNewFlows = opts.systemVisibility;
  const pool = new WorkerPool({ ...opts, systemVisibility: false, reportNewFlows, yieldMs: reportNewFlows ? opts.systemVisibilityPollMs : undefined },
    opts.workers);
  // sockets stay known for a while after they close: until their flow can have ended idle; the
  // whole tables are read once a second, for what the new flows' lookups missed
  const poller = reportNewFlows
    ? new SocketPoller(opts.systemVisibilityPollMs, opts.idleTimeoutMs + 60_000, Math.max(1000, opts.systemVisibilityPollMs))
    : undefined;
  if (poller) pool.onNewFlows = (keys) => poller.lookup(keys);
  pool.onWarning = (m) => log.warn(m);
  const records = openPluginRecords(opts.plugins);
  pool.onPluginRecords = (r) => records?.write(r);
  const started = `capturing on ${opts.interface} with ${opts.workers} worker${opts.workers === 1 ? '' : 's'}${poller ? ', system visibility on' : ''}; Ctrl-C to stop`;
  const run = { ...opts, inputLabel: `on ${opts.interface}`, live: true, started };
  if (!poller) return withPluginRecords(records, () => runFlows(pool, run, log));
  const visible = new SystemVisibility(pool, opts, poller);
  const code = await withPluginRecords(records, () => runFlows(visible, run, log));
  const share = poller.polls > 1 ? (100 * poller.cpuMicros) / ((poller.polls - 1) * opts.systemVisibilityPollMs * 1000) : 0;
  log.info(`system visibility: ${visible.matched} of ${visible.withLocalEnd} TCP/UDP flows matched a local process; ` +
    `${poller.flowsLookedUp} new flows looked up (${poller.socketsFound} sockets found), ${poller.polls} polls, ${poller.dumps} reads of the whole tables, ` +
    `${(poller.cpuMicros / 1000).toFixed(0)} ms of CPU after the first poll (${share.toFixed(1)} % of a core at ${opts.systemVisibilityPollMs} ms), ` +
    `the first ${(poller.firstPollMicros / 1000).toFixed(0)} ms`);
  return code;
}

function listInterfaces(json: boolean): string {
  const all = loadNative().interfaces();
  if (json) return `${JSON.stringify(all, null, 2)}\n`;
  return all.map((d, i) => {
    const flags = [d.up ? 'Up' : 'Down', d.running ? 'Running' : '', d.loopback ? 'Loopback' : ''].filter(Boolean).join(', ');
    return `${i + 1}. ${d.name}${d.description ? ` (${d.description})` : ''} [${flags}]\n`;
  }).join('');
}

/** Options shared by read and capture: the meter, and where flows go. */
function meterAndOutputOptions(cmd: Command): Command {
  return cmd
    .option('-o, --output <path>', 'write to this file (format from .csv / .jsonl / .parquet / .arrow), or dataset folder; default standard output')
    .option('--csv', 'CSV output (the default on standard output)')
    .option('--jsonl', 'JSON Lines output')
    .option('--parquet', 'Parquet output (needs -o)')
    .addOption(new Option('--format <format>', 'output format (arrow: Arrow IPC, a stream on standard output)').choices(['csv', 'jsonl', 'parquet', 'arrow']))
    .addOption(new Option('--compression <codec>', 'Parquet page compression (default: zstd)').choices([...COMPRESSIONS]))
    .option('--flows-per-file <n>', 'start a new output file after n flows (flows.0.csv, flows.1.csv, ...)')
    .option('--rotate <seconds>', 'start a new output file after this much flow time')
    .option('--rotate-files <n>', 'with --flows-per-file or --rotate: keep the newest n files, deleting the oldest (a ring)')
    .option('--row-group-size <flows>', 'Parquet flows per row group, the unit readers skip by statistics (default: 122880)')
    .addOption(new Option('--partition <by>', 'write a Hive-style dataset under -o DIR: dt=YYYY-MM-DD[/hour=HH]/part-N').choices(['hour', 'day']))
    .option('--ipfix <target>', 'send each flow to an IPFIX collector: HOST:PORT (UDP), udp://HOST:PORT or tcp://HOST:PORT (without -o, only there)')
    .option('--ipfix-domain <id>', 'IPFIX observation domain id (default: 0)')
    .option('--ipfix-template-refresh <seconds>', 'IPFIX over UDP: send the templates again this often (default: 60)')
    .option('--anonymize <columns>', 'replace these text columns (e.g. src_ip,dst_ip,src_mac,dst_mac) with a keyed hash')
    .option('--anonymize-key <key>', 'the key for --anonymize, to keep the mapping stable across runs (default: random per run)')
    .option('--idle-timeout <seconds>', 'end a flow idle this long', String(DEFAULTS.idleTimeout))
    .option('--active-timeout <seconds>', 'end a flow this old', String(DEFAULTS.activeTimeout))
    .option('--accounting-mode <mode>', `bytes counted per packet: ${ACCOUNTING_NAMES.join(', ')} (or 0-3)`, DEFAULTS.accountingMode)
    .option('--no-decode-tunnels', 'do not decode GTP-U, CAPWAP, TZSP, VXLAN, GRE (drops tunnel_id)')
    .option('--bpf <filter>', 'BPF filter applied to every packet (tcpdump syntax)')
    .option('--max-flows <n>', 'stop after exporting this many flows')
    .option('--stop-timeout <seconds>', 'after a stop (signal, --duration, --max-flows), end meters that hand over no flow for this long (default: 10)')
    .option('--max-active-flows <n>', 'open flows at most; beyond, the oldest ends early (expiration_id 2; 0: no limit)', String(DEFAULTS.maxActiveFlows))
    .option('--dissections <n>', 'packets per flow given to nDPI for application detection (0: off)', String(DEFAULTS.dissections))
    .option('--stats', 'add the 48 statistical features (packet sizes, inter-arrival times, TCP flags)')
    .option('--splt <n>', 'add direction, size and inter-arrival time of the first n packets (1-255)')
    .addOption(new Option('--time-precision <unit>', 'add first/last seen and duration in us or ns (at the capture\'s precision)').choices(['ms', 'us', 'ns']))
    .option('--activity-features', 'add CICFlowMeter-style rates and active/idle period statistics')
    .option('--activity-gap <seconds>', `a gap longer than this ends an active period (default: ${DEFAULTS.activityGap}; implies --activity-features)`)
    .option('--payload-bytes <n>', 'add the first n bytes of L4 payload (both directions, packet order, zero-padded)')
    .option('--header-bytes <n>', 'add the IP+transport headers of the first n packets, addresses and ports zeroed')
    .option('--header-width <bytes>', `bytes kept of each header for --header-bytes (default: ${DEFAULTS.headerWidth})`)
    .option('--community-id', 'add community_id (Community ID v1 flow hash)')
    .option('--community-id-seed <n>', 'seed of the Community ID hash, 0-65535 (implies --community-id)')
    .option('--plugin <name|file>', 'run a plugin (shipped: dhcp, mdns, model; or a .js, .mjs, .ts module); repeatable', collect, [])
    .option('--plugin-option <key=value>', 'an option for the plugins (name.key=value for one of them); repeatable', collect, [])
    .option('--model <file>', 'plugin model: the ONNX model to run on each flow')
    .option('--features <columns>', 'plugin model: the columns the model takes, in order')
    .option('--predict-at <n>', 'plugin model: predict from the flow as it stood at its nth packet (default: at its end)')
    .option('--predictions <file>', 'plugin model: also write each prediction as it is made, a JSON line with the flow\'s key')
    .option('--plugin-timeout <seconds>', 'an onStart or onBatch promise not settled after this long ends the run (default: 60)')
    .addOption(new Option('--plugin-errors <mode>', 'a hook that throws: count it and go on, or fail the run').choices(['count', 'fail']))
    .addOption(new Option('--batch-size <flows>', 'flows per native batch').hideHelp())
    .addOption(new Option('--row-group-rows <n>', 'Parquet rows per row group').hideHelp());
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function buildProgram(run: (code: number) => void): Command {
  const program = new Command();
  program
    .name('flowseek')
    .description('Bidirectional network flows from captures, NFStream-compatible, fast.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices([...LOG_LEVELS]).default('info'))
    .addOption(new Option('--log-format <format>', 'log line format on stderr').choices(['pretty', 'json']).default('pretty'))
    .option('-q, --quiet', 'only warnings and errors on stderr')
    .option('--verbose', 'show the cause of an error')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => writeUsageError(s, logFormatIn(process.argv)) });

  meterAndOutputOptions(program
    .command('read')
    .description('read capture files (pcap, pcapng) into flow records')
    .argument('<files...>', 'capture files, read in order into one flow table'))
    .option('--snaplen <bytes>', 'look at no more than this many bytes of each packet (0: all)')
    .option('--workers <n>', 'meters, each keeping the flows of one hash partition of the host pairs (threads over one reading of the files; processes when plugins are loaded)', '1')
    .addOption(new Option('--system-visibility', 'capture only: refused here with a message').hideHelp())
    .action(async (files: string[], raw: RawReadOptions) => {
      run(await runRead(files, raw, program.opts<GlobalOptions>()));
    });
  meterAndOutputOptions(program
    .command('capture')
    .description('capture flows live from a network interface (needs root, or CAP_NET_RAW and CAP_NET_ADMIN)')
    .requiredOption('-i, --interface <name>', 'the interface to capture on (see: flowseek interfaces)'))
    .option('--snaplen <bytes>', 'bytes kept of each packet', '1536')
    .option('--no-promisc', 'do not put the interface in promiscuous mode')
    .option('--buffer-size <bytes>', 'kernel capture buffer per worker (default: libpcap\'s)')
    .option('--workers <n>', 'meter processes sharing the interface through PACKET_FANOUT (default: cores - 1)')
    .option('--duration <seconds>', 'stop after this long')
    .option('--report <seconds>', 'every this many seconds, a line of counters on stderr')
    .option('--system-visibility', 'add the pid, name and command line of the local process behind each flow')
    .option('--system-visibility-poll-ms <ms>', 'how soon each new flow\'s sockets are looked up for --system-visibility', '100')
    .action(async (raw: RawCaptureOptions) => {
      run(await runCapture(raw, program.opts<GlobalOptions>()));
    });
  program
    .command('interfaces')
    .description('list the interfaces that can be captured on, like tcpdump -D')
    .option('--json', 'as a JSON array')
    .action((raw: { json?: boolean }) => {
      process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
      process.stdout.write(listInterfaces(raw.json === true));
      run(EXIT_OK);
    });
  program
    .command('fields')
    .description('list the output columns for the given options, with type, unit and meaning')
    .option('--stats', 'include the statistical features')
    .option('--splt <n>', 'include the SPLT lists')
    .option('--dissections <n>', 'application columns unless 0', String(DEFAULTS.dissections))
    .option('--no-decode-tunnels', 'without tunnel_id')
    .addOption(new Option('--time-precision <unit>', 'include the microsecond or nanosecond times').choices(['ms', 'us', 'ns']))
    .option('--activity-features', 'include the rate and active/idle columns')
    .option('--payload-bytes <n>', 'include payload_bytes')
    .option('--header-bytes <n>', 'include header_bytes')
    .option('--community-id', 'include community_id')
    .option('--json', 'one JSON array instead of a table')
    .action((raw: RawReadOptions & { json?: boolean }) => {
      const fields = fieldsFor(parseMeterOptions(raw));
      const w = Math.max(...fields.map((f) => f.name.length));
      const text = raw.json
        ? `${JSON.stringify(fields.map(({ name, type, unit, doc }) => ({ name, type, unit: unit ?? null, doc })), null, 2)}\n`
        : fields.map((f) => `${f.name.padEnd(w)}  ${f.type.padEnd(11)}  ${(f.unit ?? '').padEnd(14)}  ${f.doc}\n`).join('');
      // a reader that went away (| head) is not an error
      process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
      process.stdout.write(text);
      run(EXIT_OK);
    });
  return program;
}

/** The log format asked for, read before parsing: a usage error must obey it too. */
function logFormatIn(argv: readonly string[]): LogFormat {
  const i = argv.lastIndexOf('--log-format');
  const eq = [...argv].reverse().find((a) => a.startsWith('--log-format='));
  if (i >= 0 && argv[i + 1] === 'json') return 'json';
  return eq === '--log-format=json' ? 'json' : 'pretty';
}

/** commander's messages (usage errors, suggestions): one line each, JSON when logs are JSON */
function writeUsageError(text: string, format: LogFormat): void {
  if (format === 'pretty') {
    process.stderr.write(text.startsWith('error:') ? `flowseek: ${text}` : text);
    return;
  }
  const log = createLogger('error', 'json');
  for (const line of text.split('\n').filter((l) => l.trim())) log.error({ code: 'FS_USAGE' }, line.replace(/^error: /, ''));
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version end here too, with exit code 0
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const { verbose, logFormat } = program.opts<GlobalOptions>();
    // errors go through the logger: with --log-format json they are JSON lines like the rest
    const log = createLogger('error', logFormat ?? logFormatIn(argv));
    if (e instanceof FlowseekError) {
      const cause = verbose && e.cause ? String((e.cause as Error).message ?? e.cause) : undefined;
      log.error({ code: e.code, exitCode: e.exitCode, ...(cause ? { cause } : {}) }, e.message);
      if (cause && logFormat !== 'json') process.stderr.write(`  cause: ${cause}\n`);
      return e.exitCode;
    }
    log.error({ code: 'FS_INTERNAL', exitCode: EXIT_RUNTIME, ...(verbose ? { stack: (e as Error).stack } : {}) }, `internal error: ${(e as Error).message}`);
    if (verbose && logFormat !== 'json') process.stderr.write(`${(e as Error).stack}\n`);
    return EXIT_RUNTIME;
  }
}
