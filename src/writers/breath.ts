/**
 * A pause for the event loop inside a long stretch of synchronous encoding (a Parquet page burst:
 * every column's page is compressed after the same batch). Without it, work other threads finished
 * meanwhile waits for the whole stretch: the lanes on libuv's pool were not given their next step
 * and stood idle (bench/RESULTS.md). Callers await the promise when there is one; most calls return
 * none, and cost a clock read.
 */
import { performance } from 'node:perf_hooks';

/** the longest stretch between two pauses */
const SLICE_MS = 2;

let since = performance.now();

export function breath(): Promise<void> | undefined {
  if (performance.now() - since < SLICE_MS) return undefined;
  return new Promise<void>((resolve) => setImmediate(() => { since = performance.now(); resolve(); }));
}
