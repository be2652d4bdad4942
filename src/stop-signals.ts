/**
 * Stop signals (SIGINT, SIGTERM, SIGHUP and the rest of STOP_SIGNALS), taken once for the life of
 * the CLI (bin/flowseek, from its first line) and handed to whoever receives them at the moment:
 * the run, or what starts it; and the report signals (SIGUSR1, SIGUSR2), handed to the run.
 *
 * Why not process.on/off around each phase: Node closes a signal's watcher when its last listener
 * goes, and a signal the kernel delivered to the old watcher but the event loop had not read yet
 * is dropped with it. A capture stopped 0.1-0.3 s after it started (a service restarted at once)
 * lost its SIGTERM that way, and took no SIGTERM after it: it ran on until SIGKILL.
 *
 * A signal that comes while nobody receives (the modules loading, the options read, a capture
 * opening) is held for the next receiver; one still held after HOLD_MS (a start that hangs) ends
 * the process as the signal would have, with a line.
 */
/** What stops a run, read or capture: every signal whose default would end the process with its
 * output a hidden temporary and its flows lost, but those that say it crashed (SIGSEGV, SIGABRT...)
 * and SIGPROF (V8's profiler samples with it). SIGHUP too: `nohup` cannot keep it away, as Node puts
 * every signal but SIGPIPE and SIGXFSZ back to its default when it starts. SIGQUIT is a Ctrl-\ or a
 * service manager's; SIGXCPU comes at a CPU time limit (ulimit -t, LimitCPU), before its SIGKILL. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGALRM', 'SIGVTALRM', 'SIGXCPU', 'SIGPWR'];
/** What asks a run for a report line (as `--report` writes them). Taken for the life of the process
 * like the stop signals, and ignored outside a run: untaken, SIGUSR2 ended a run as SIGKILL would,
 * and SIGUSR1 opened Node's inspector, a debugger on 127.0.0.1:9229 that any local user could reach
 * in a process that may run as root. */
export const REPORT_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2'];
const HOLD_MS = 5000;
let installed = false;
let receiver: ((sig: NodeJS.Signals) => void) | undefined;
let reporter: (() => void) | undefined;
const held: NodeJS.Signals[] = [];
let timer: NodeJS.Timeout | undefined;
/** a run took signals once: one held now comes while it finishes, not while it starts */
let received = false;
/** stop signals that reached this process so far, whoever took them */
let came = 0;

/** Stop signals that reached this process so far: one on its way to the run (held, or taken
 * while the outputs open) has not reached the meters yet. */
export function stopSignalsSoFar(): number {
  return came;
}

function route(sig: NodeJS.Signals): void {
  came++;
  if (receiver) return receiver(sig);
  held.push(sig);
  timer ??= setTimeout(() => {
    process.stderr.write(received ? `flowseek: ${sig} while finishing: ended\n` : `flowseek: ${sig} while starting: stopped before anything was read\n`);
    for (const s of STOP_SIGNALS) process.off(s, route);
    process.kill(process.pid, sig);
  }, HOLD_MS).unref(); // a command that ends on its own meanwhile just ends
}

/** From now on, for the life of the process (the CLI's first line). */
export function holdStopSignals(): void {
  if (installed) return;
  installed = true;
  for (const s of STOP_SIGNALS) process.on(s, route);
  for (const s of REPORT_SIGNALS) process.on(s, () => reporter?.());
}

/** Report signals call report until the returned function is called. Only where the signals are
 * held (the CLI): a program using the API keeps its own SIGUSR1 (its debugger) and SIGUSR2. */
export function receiveReportSignals(report: () => void): () => void {
  const previous = reporter;
  if (installed) reporter = report;
  return () => {
    if (reporter === report) reporter = previous;
  };
}

/** Stop signals go to receive (those held first) until the returned function is called. Without
 * holdStopSignals (a program using the API), listeners are added for that time only. */
export function receiveStopSignals(receive: (sig: NodeJS.Signals) => void): () => void {
  const own = !installed;
  if (own) for (const s of STOP_SIGNALS) process.on(s, route);
  const previous = receiver;
  receiver = receive;
  received = true;
  if (timer) clearTimeout(timer);
  timer = undefined;
  for (const sig of held.splice(0)) receive(sig);
  return () => {
    if (receiver === receive) receiver = previous;
    if (own) for (const s of STOP_SIGNALS) process.off(s, route);
  };
}
