/** The flowseek command line: parse once, run, map every failure to one line and an exit code. */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, FlowseekError } from './errors';
import { createLogger, LOG_LEVELS, LogFormat, LogLevel } from './log';
import { NativeStats } from './native';
import { ACCOUNTING_NAMES, COMPRESSIONS, DEFAULTS, parseMeterOptions, parseReadOptions, RawReadOptions } from './options';
import { fieldsFor } from './schema';
import { FlowStreamer } from './streamer';
import { Anonymizer } from './anonymize';
import { FlowOutput } from './writers/output';

const VERSION: string = require('../../package.json').version;
const EXIT_INTERRUPTED = 130;

interface GlobalOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
  quiet?: boolean;
  verbose?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function summary(s: NativeStats, inputs: number, outputs: number | undefined, seconds: number): string {
  const reasons = Object.entries(s.ignoredBy).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
  const ignored = s.ignored ? ` (${s.ignored} ignored: ${reasons})` : '';
  const rate = seconds > 0 ? `, ${Math.round(s.packets / seconds).toLocaleString('en')} packets/s` : '';
  const written = outputs === undefined ? '' : `, ${plural(outputs, 'output file')} written`;
  const peakMb = Math.round(process.resourceUsage().maxRSS / 1024);
  return `${s.flowsExported} flows from ${s.packets} packets${ignored} in ${plural(inputs, 'file')}${written}, ` +
    `${seconds.toFixed(2)} s${rate}, peak memory ${peakMb} MB`;
}

async function runRead(files: string[], raw: RawReadOptions, g: GlobalOptions): Promise<number> {
  const log = createLogger(g.quiet ? 'warn' : g.logLevel, g.logFormat);
  const opts = parseReadOptions(files, raw);
  const started = process.hrtime.bigint();
  const streamer = new FlowStreamer(opts);
  streamer.open();
  const output = new FlowOutput(streamer.fields, opts, opts.splt);
  const anonymizer = opts.anonymize.length ? new Anonymizer(opts.anonymize, opts.anonymizeKey) : undefined;
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(EXIT_INTERRUPTED);
    interrupted = true;
    log.warn(`${sig}: stopping; flows seen so far are being written (again to quit at once)`);
    streamer.stop();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    for await (const batch of streamer.batches()) {
      await output.write(anonymizer ? anonymizer.apply(batch) : batch);
      if (output.readerGone) streamer.stop();
    }
    await output.close();
  } catch (e) {
    output.discard();
    throw e;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  const stats = streamer.stats() as NativeStats;
  for (const w of stats.warnings.split('\n').filter(Boolean)) log.warn(w);
  if (stats.oversizeRecords) {
    log.warn(`${stats.oversizeRecords} records longer than 65535 bytes on the wire: their sizes wrap to 16 bits, as NFStream's do`);
  }
  if (stats.allocFailures) log.error(`${stats.allocFailures} flows could not be allocated (out of memory) and are missing`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const file of output.written) log.debug(`wrote ${file}`);
  log.info(summary(stats, files.length, opts.output === undefined ? undefined : output.written.length, seconds));
  if (output.readerGone) return EXIT_OK;
  if (interrupted) return EXIT_INTERRUPTED;
  return stats.readErrors || stats.allocFailures ? EXIT_RUNTIME : EXIT_OK;
}

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
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `flowseek: ${s}` : s) });

  program
    .command('read')
    .description('read capture files (pcap, pcapng) into flow records')
    .argument('<files...>', 'capture files, read in order into one flow table')
    .option('-o, --output <path>', 'write to this file (format from .csv / .jsonl / .parquet), or dataset folder; default standard output')
    .option('--csv', 'CSV output (the default on standard output)')
    .option('--jsonl', 'JSON Lines output')
    .option('--parquet', 'Parquet output (needs -o)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'jsonl', 'parquet']))
    .addOption(new Option('--compression <codec>', 'Parquet page compression (default: zstd)').choices([...COMPRESSIONS]))
    .option('--flows-per-file <n>', 'start a new output file after n flows (flows.0.csv, flows.1.csv, ...)')
    .option('--rotate <seconds>', 'start a new output file after this much flow time')
    .addOption(new Option('--partition <by>', 'write a Hive-style dataset under -o DIR: dt=YYYY-MM-DD[/hour=HH]/part-N').choices(['hour', 'day']))
    .option('--anonymize <columns>', 'replace these text columns (e.g. src_ip,dst_ip,src_mac,dst_mac) with a keyed hash')
    .option('--anonymize-key <key>', 'the key for --anonymize, to keep the mapping stable across runs (default: random per run)')
    .option('--idle-timeout <seconds>', 'end a flow idle this long', String(DEFAULTS.idleTimeout))
    .option('--active-timeout <seconds>', 'end a flow this old', String(DEFAULTS.activeTimeout))
    .option('--accounting-mode <mode>', `bytes counted per packet: ${ACCOUNTING_NAMES.join(', ')} (or 0-3)`, DEFAULTS.accountingMode)
    .option('--no-decode-tunnels', 'do not decode GTP-U, CAPWAP, TZSP, VXLAN, GRE (drops tunnel_id)')
    .option('--bpf <filter>', 'BPF filter applied to every packet (tcpdump syntax)')
    .option('--snaplen <bytes>', 'look at no more than this many bytes of each packet (0: all)')
    .option('--max-flows <n>', 'stop after exporting this many flows')
    .option('--dissections <n>', 'packets per flow given to nDPI for application detection (0: off)', String(DEFAULTS.dissections))
    .option('--stats', 'add the 48 statistical features (packet sizes, inter-arrival times, TCP flags)')
    .option('--splt <n>', 'add direction, size and inter-arrival time of the first n packets (1-255)')
    .addOption(new Option('--batch-size <flows>', 'flows per native batch').hideHelp())
    .addOption(new Option('--row-group-rows <n>', 'Parquet rows per row group').hideHelp())
    .action(async (files: string[], raw: RawReadOptions) => {
      run(await runRead(files, raw, program.opts<GlobalOptions>()));
    });
  program
    .command('fields')
    .description('list the output columns for the given options, with type, unit and meaning')
    .option('--stats', 'include the statistical features')
    .option('--splt <n>', 'include the SPLT lists')
    .option('--dissections <n>', 'application columns unless 0', String(DEFAULTS.dissections))
    .option('--no-decode-tunnels', 'without tunnel_id')
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
    const verbose = program.opts<GlobalOptions>().verbose;
    if (e instanceof FlowseekError) {
      process.stderr.write(`flowseek: error: ${e.message}\n`);
      if (verbose && e.cause) process.stderr.write(`  cause: ${String((e.cause as Error).message ?? e.cause)}\n`);
      return e.exitCode;
    }
    process.stderr.write(`flowseek: internal error: ${(e as Error).message}\n`);
    if (verbose) process.stderr.write(`${(e as Error).stack}\n`);
    return EXIT_RUNTIME;
  }
}

