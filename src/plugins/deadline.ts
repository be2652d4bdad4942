/**
 * A hook's promise that never settles would leave nothing for Node to wait on: the process would
 * exit 0 in silence with the output unwritten. A deadline keeps the run alive and turns the wait
 * into an error naming the plugin and hook.
 */
import { PluginError } from './load';

/** How long an async hook (onStart, onBatch) may take, unless --plugin-timeout says otherwise. */
export const HOOK_TIMEOUT_MS = 60_000;

export async function settleWithin<T>(work: T | Promise<T>, ms: number, what: string): Promise<T> {
  if (!(work instanceof Promise)) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginError(`${what} did not settle within ${ms / 1000} s: the run ends here (--plugin-timeout)`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
