/** libuv's thread pool, started before anything of the run opens (src/cli.ts). */
import { FlowseekError } from './errors';
import { bytes, memoryLimit } from './memory-need';
import { loadNative } from './native';

/** libuv's pool started before any output is opened: when its threads cannot start (their stacks
 * do not fit under ulimit -v, or ulimit -u is reached), libuv ends the process at its first work
 * without a word, leaving the output's temporary behind. Here the run ends with why. */
export async function startThreadPool(): Promise<void> {
  try {
    await loadNative().startPool();
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).toLowerCase();
    const limit = memoryLimit(); // looked up only to say it
    throw new FlowseekError(`could not start the threads a run needs (${why}): ${limit.by} ${bytes(limit.bytes)} ` +
      'of memory, or the processes its user may run (ulimit -u) are too few', 'FS_THREADS');
  }
}
