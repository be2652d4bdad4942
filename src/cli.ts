/** The flowseek command line: parse once, run, map every failure to one line and an exit code. */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, FlowseekError } from './errors';
import { createLogger, LogFormat, LogLevel } from './log';
import { CommandName, defaultOf, expand, optionsOf } from './option-table';
import { parseCaptureOptions, parseMeterOptions, parseReadOptions, RawCaptureOptions, RawReadOptions } from './options';
import { fieldsFor } from './schema';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { ProgressBar } from './progress';
import { Sink } from './writers/sink';
import { loadNative } from './native';
import { runFlows } from './run';
import { openSource } from './source';
import { startThreadPool } from './thread-pool';
import { KernelEvents } from './system/bpf';
import { SocketPoller, SystemVisibility } from './system/visibility';
import { openPluginRecords, withPluginRecords } from './plugins/records-file';
import { beforeTheRun, catchStrayErrors, guardExit, takeStrayError } from './plugins/contain';

const VERSION = (require('../../package.json') as { version: string }).version;

interface GlobalOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
  quiet?: boolean;
  verbose?: boolean;
}

/** A read's counters are at most this old when SIGUSR1 or SIGUSR2 asks for a report line: the
 * meter hands over a batch this often, full or not (else a read whose flows stay open, a short
 * capture of long flows, reported what it had at its last full batch, or at its start). */
const REPORT_FRESH_MS = 1000;

function fileSize(file: string): number {
  try { return fs.statSync(file).size; } catch { return 0; }
}

async function runRead(files: string[], raw: RawReadOptions, g: GlobalOptions): Promise<number> {
  const log = createLogger(g.quiet ? 'warn' : g.logLevel, g.logFormat);
  const opts = parseReadOptions(files, raw);
  // a progress line on a terminal only: never in a pipe, a log file or cron mail
  const showProgress = process.stderr.isTTY === true && !g.quiet && opts.workers === 1 && !['warn', 'error', 'fatal', 'silent'].includes(g.logLevel);
  // plugins run here (all hooks with one worker; onStart, to check them, with more)
  if (opts.plugins?.length) guardExit();
  await startThreadPool();
  const source = await beforeTheRun(() => openSource(opts, { warn: (m) => log.warn(m), pluginRecords: (r) => records?.write(r), yieldMs: showProgress ? 200 : REPORT_FRESH_MS }), (m) => log.warn(m),
    opts.plugins?.length ? 'plugins starting' : 'opening the input');
  // opened once the plugins have loaded: a run that cannot start leaves no file
  const records = openPluginRecords(opts.plugins);
  const inputLabel = `in ${files.length} file${files.length === 1 ? '' : 's'}`;
  const progress = showProgress ? new ProgressBar(files.reduce((n, f) => n + fileSize(f), 0)) : undefined;
  return withPluginRecords(records, () => runFlows(source, { ...opts, inputLabel, live: false, progress }, log));
}

async function runCapture(raw: RawCaptureOptions, g: GlobalOptions): Promise<number> {
  const log = createLogger(g.quiet ? 'warn' : g.logLevel, g.logFormat);
  const opts = parseCaptureOptions(raw, os.availableParallelism());
  await startThreadPool();
  const source = await openSource(opts, { warn: (m) => log.warn(m), info: (m) => log.info(m), pluginRecords: (r) => records?.write(r) });
  const records = openPluginRecords(opts.plugins);
  const visible = source instanceof SystemVisibility ? source : undefined;
  const started = `capturing on ${opts.interface} with ${opts.workers} worker${opts.workers === 1 ? '' : 's'}${visible ? ', system visibility on' : ''}; Ctrl-C to stop`;
  const code = await withPluginRecords(records, () => runFlows(source, { ...opts, inputLabel: `on ${opts.interface}`, live: true, started }, log));
  if (visible) log.info(visibilitySummary(visible, opts.systemVisibilityPollMs));
  const denied = visible?.source instanceof SocketPoller ? visible.source.deniedProcesses : 0;
  if (denied) {
    log.warn(`system visibility: the sockets of ${denied} processes of other users could not be read (flowseek runs without ` +
      'CAP_SYS_PTRACE or root): flows of theirs are not labelled');
  }
  return code;
}

function visibilitySummary(visible: SystemVisibility, pollMs: number): string {
  const matched = `system visibility: ${visible.matched} of ${visible.withLocalEnd} TCP/UDP flows matched a local process`;
  const source = visible.source;
  if (source instanceof KernelEvents) {
    const s = source.stats();
    return `${matched} (BPF); ${s.events} socket events read (${s.lost} lost to a full ring buffer), ${s.sockets} sockets known at the end, ` +
      `${(s.readerCpuMicros / 1000).toFixed(0)} ms of CPU in the reader thread` +
      // counted only while something turned the kernel's BPF statistics on (bench/visibility.ts)
      (s.programRuns ? `; the programs ran ${s.programRuns} times, ${(s.programRunMicros / 1000).toFixed(0)} ms in the kernel` : '');
  }
  const poller = source as SocketPoller;
  const share = poller.polls > 1 ? (100 * poller.cpuMicros) / ((poller.polls - 1) * pollMs * 1000) : 0;
  return `${matched}; ` +
    `${poller.flowsLookedUp} new flows looked up (${poller.socketsFound} sockets found), ${poller.polls} polls, ${poller.dumps} reads of the whole tables, ` +
    `${(poller.cpuMicros / 1000).toFixed(0)} ms of CPU after the first poll (${share.toFixed(1)} % of a core at ${pollMs} ms), ` +
    `the first ${(poller.firstPollMicros / 1000).toFixed(0)} ms`;
}

function listInterfaces(json: boolean): string {
  const all = loadNative().interfaces();
  if (json) return `${JSON.stringify(all, null, 2)}\n`;
  return all.map((d, i) => {
    const flags = [d.up ? 'Up' : 'Down', d.running ? 'Running' : '', d.loopback ? 'Loopback' : ''].filter(Boolean).join(', ');
    return `${i + 1}. ${d.name}${d.description ? ` (${d.description})` : ''} [${flags}]\n`;
  }).join('');
}

/** A command's options, from the table (src/option-table.ts): no default is given to commander, so
 * an option not given stays undefined and src/options.ts applies the table's default. */
function withOptions(cmd: Command, command: CommandName): Command {
  // what a command requires (capture's -i) comes first in its --help
  const specs = optionsOf(command).sort((a, b) => Number(b.required ?? false) - Number(a.required ?? false));
  for (const spec of specs) {
    const o = new Option(spec.arg ? `${spec.flags} <${spec.arg}>` : spec.flags, expand(spec.help, spec));
    if (spec.kind === 'choice') o.choices([...spec.choices ?? []]);
    if (spec.kind === 'list') o.argParser(collect);
    if (spec.hidden) o.hideHelp();
    if (spec.required) o.makeOptionMandatory();
    cmd.addOption(o);
  }
  return cmd;
}

const collect = (value: string, previous: string[] | undefined) => [...previous ?? [], value];

/** The program's own options, with the table's defaults under those given. */
function globalOptions(program: Command): GlobalOptions {
  const given = Object.fromEntries(Object.entries(program.opts()).filter(([, v]) => v !== undefined));
  return { logLevel: defaultOf('--log-level') as LogLevel, logFormat: defaultOf('--log-format') as LogFormat, ...given };
}

/** A listing to standard output as the flows go there: every byte, or an error that says why (a
 * reader that went away, `| head`, is no error). */
async function printOut(text: string): Promise<number> {
  const out = Sink.stdout();
  await out.write(text);
  await out.close();
  return EXIT_OK;
}

export function buildProgram(run: (code: number) => void): Command {
  const program = new Command();
  withOptions(program
    .name('flowseek')
    .description('Bidirectional network flows from captures, NFStream-compatible, fast.')
    .version(VERSION, '-V, --version'), 'program')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => writeUsageError(s, logFormatIn(process.argv)) });

  withOptions(program
    .command('read')
    .description('read capture files (pcap, pcapng) into flow records')
    .argument('<files...>', 'capture files, read in order into one flow table'), 'read')
    .action(async (files: string[], raw: RawReadOptions) => {
      run(await runRead(files, raw, globalOptions(program)));
    });
  withOptions(program
    .command('capture')
    .description('capture flows live from a network interface (needs root, or CAP_NET_RAW and CAP_NET_ADMIN)'), 'capture')
    .action(async (raw: RawCaptureOptions) => {
      run(await runCapture(raw, globalOptions(program)));
    });
  withOptions(program
    .command('interfaces')
    .description('list the interfaces that can be captured on, like tcpdump -D'), 'interfaces')
    .action(async (raw: { json?: boolean }) => {
      run(await printOut(listInterfaces(raw.json === true)));
    });
  withOptions(program
    .command('fields')
    .description('list the output columns for the given options, with type, unit and meaning'), 'fields')
    .action(async (raw: RawReadOptions & { json?: boolean; systemVisibility?: boolean }) => {
      const fields = fieldsFor({ ...parseMeterOptions(raw, 'fields'), systemVisibility: raw.systemVisibility === true });
      const w = Math.max(...fields.map((f) => f.name.length));
      const text = raw.json
        ? `${JSON.stringify(fields.map(({ name, type, unit, doc }) => ({ name, type, unit: unit ?? null, doc })), null, 2)}\n`
        : fields.map((f) => `${f.name.padEnd(w)}  ${f.type.padEnd(11)}  ${(f.unit ?? '').padEnd(14)}  ${f.doc}\n`).join('');
      run(await printOut(text));
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

/** A diagnostic that cannot be written (stderr a pipe whose reader left, as in `2>&1 | head`, or a
 * file on a full disk) is lost, and the run ends as it would have: Node otherwise throws the
 * stream's 'error' event, and the run dies of its summary line. */
let stderrGuarded = false;
function guardStderr(): void {
  if (stderrGuarded) return;
  stderrGuarded = true;
  process.stderr.on('error', () => undefined);
}

export async function main(argv: string[]): Promise<number> {
  guardStderr();
  catchStrayErrors();
  let code = EXIT_OK;
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv);
    // a stray error after the run (none took it): the run did not end well
    const late = takeStrayError();
    if (late) throw late;
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
