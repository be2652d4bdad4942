/**
 * Plugin code runs in flowseek's own process, and can end it in ways no hook's try/catch sees:
 * process.exit, an error nothing awaits (a stray rejection, a throw from a timer), a signal
 * before the run takes signals. Node would end the process at once (silently, or with a stack)
 * and leave the output as a hidden temporary file. Here each becomes a plugin error: one line,
 * exit 1 (130 for a signal), the flows so far written. The CLI and each worker process install
 * this; the programmatic API leaves the embedding program's process alone.
 */
import { FlowseekError } from '../errors';
import { PluginError, pluginOfStack } from './load';
import { receiveStopSignals } from '../stop-signals';

/** flowseek's own way out, once process.exit is guarded */
export const realExit: (code?: number) => never = process.exit.bind(process);

/** process.exit throws instead: a fatal plugin error whatever --plugin-errors says (the plugin
 * meant the run to end), caught by the hook that called it, or else taken as a stray error. */
export function guardExit(): void {
  process.exit = (code?: number | string | null) => {
    throw Object.assign(new Error(`it called process.exit(${code ?? ''}), which ends the run as an error`), { fatal: true });
  };
}

let pending: FlowseekError | undefined;
let taker: ((e: FlowseekError) => void) | undefined;

/** Errors nothing awaited go to the run (onStrayError), or wait for the next takeStrayError(). */
export function catchStrayErrors(): void {
  const stray = (e: unknown) => {
    const err = strayError(e);
    if (taker) taker(err);
    else pending ??= err;
  };
  process.on('unhandledRejection', stray);
  process.on('uncaughtException', stray);
}

/** While a run goes on, a stray error is handed to it (at once if one came before). */
export function onStrayError(take: (e: FlowseekError) => void): () => void {
  taker = take;
  const early = takeStrayError();
  if (early) take(early);
  return () => { if (taker === take) taker = undefined; };
}

export function takeStrayError(): FlowseekError | undefined {
  const e = pending;
  pending = undefined;
  return e;
}

/** One line, naming the plugin whose file the stack passes through, if any. */
function strayError(e: unknown): FlowseekError {
  const what = `an unhandled error: ${oneLine(e instanceof Error ? e.message : String(e))}`;
  const plugin = e instanceof Error ? pluginOfStack(e.stack) : undefined;
  return plugin ? new PluginError(`plugin ${plugin}: ${what}`, { cause: e }) : new FlowseekError(what, 'FS_UNHANDLED', 1, { cause: e });
}

/** A message on one line: Node's own messages (a circular structure to JSON) span several. */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** Until the run takes signals, a signal (while a plugin's onStart takes its time, or the input
 * opens) ends the process here, saying so: nothing is open yet, and Node would end it in silence.
 * doing: what was going on, as the line says it. */
export async function beforeTheRun<T>(work: () => Promise<T>, say: (message: string) => void, doing: string): Promise<T> {
  const onSignal = (sig: NodeJS.Signals) => {
    say(`${sig} before the run began (${doing}): nothing was read or written`);
    realExit(130);
  };
  const release = receiveStopSignals(onSignal);
  try {
    return await work();
  } finally {
    release();
  }
}
