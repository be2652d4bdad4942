/**
 * SIGINT, SIGTERM and SIGHUP, taken once for the life of the CLI (bin/flowseek, from its first
 * line) and handed to whoever receives them at the moment: the run, or what starts it.
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
/** What stops a run, read or capture. SIGHUP too: untaken, it ended a read at once, its output left
 * as a hidden temporary file. `nohup` cannot keep it away: Node puts every signal but SIGPIPE and
 * SIGXFSZ back to its default when it starts. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const HOLD_MS = 5000;
let installed = false;
let receiver: ((sig: NodeJS.Signals) => void) | undefined;
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
