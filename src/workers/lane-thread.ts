/**
 * One lane of `read --workers N` on a thread of its own: its meter (native/run.c) runs here,
 * synchronously, and its flows become output bytes here too (src/writers/encoded.ts), or columns
 * when the parent needs batches. Ids come from one shared counter: a batch takes the next `length`
 * ids when it is made, so the parent only puts parts in order (no second pass over the rows).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadNative, NativeStats } from '../native';
import { numberDefault } from '../option-table';
import { OutputFormat } from '../options';
import { Column } from '../flow-batch';
import { buildColumnIndex, FlowStreamer, StreamerOptions, toBatch } from '../streamer';
import { EncodedGroup } from '../writers/parquet/writer';
import { laneEncoder } from '../writers/encoded';
import { nextPartSync, textPlan } from '../writers/text-plan';
import { WriterOptions } from '../writers/writer';

/** The shared counters (a BigInt64Array over one SharedArrayBuffer). */
export const NEXT_ID = 0;
/** ids the parent has written (or handed on): lanes wait when they run this far ahead */
export const DONE_ID = 1;
/** set by the parent: end now, without flushing */
export const KILLED = 2;
export const SHARED_SLOTS = 3;
/** flows a lane may be ahead of the parent's writing, in batches of its size */
export const AHEAD_BATCHES = 8;

export interface LaneData {
  spread: number;
  lane: number;
  options: StreamerOptions;
  shared: SharedArrayBuffer;
  /** bytes of this format; none: the batch's columns */
  encode?: { format: OutputFormat; writer: WriterOptions };
  /** the run's --max-flows: ids from here on are not encoded */
  maxFlows: number;
}

export type FromLane =
  | { t: 'part'; first: number; flows: number; bytes?: Uint8Array[]; bodyLength?: number; columns?: Column[]; counters: NativeStats }
  | { t: 'groups'; groups: EncodedGroup[] }
  | { t: 'done'; stats: NativeStats }
  | { t: 'error'; message: string; code?: string };

/** The buffers that are wholly a part's own: handed over rather than copied. */
function owned(bytes: Uint8Array[]): ArrayBuffer[] {
  const whole = bytes.filter((b) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength).map((b) => b.buffer as ArrayBuffer);
  return [...new Set(whole)];
}

/** The parent writes in id order: a lane far ahead waits for it (its earlier parts are all sent). */
function waitForWriter(shared: BigInt64Array, size: number, killed: () => boolean): void {
  for (let ahead = BigInt(AHEAD_BATCHES * size); Atomics.load(shared, NEXT_ID) - Atomics.load(shared, DONE_ID) > ahead && !killed();) {
    Atomics.wait(shared, DONE_ID, Atomics.load(shared, DONE_ID), 100);
  }
}

/** Text parts take their ids in C: the shared count of ids taken only rises to the part's end. */
function advanceTo(shared: BigInt64Array, end: number): void {
  for (let seen = Atomics.load(shared, NEXT_ID); seen < BigInt(end);) {
    const was = Atomics.compareExchange(shared, NEXT_ID, seen, BigInt(end));
    if (was === seen) break;
    seen = was;
  }
}

async function main(d: LaneData): Promise<void> {
  const port = parentPort as NonNullable<typeof parentPort>;
  const shared = new BigInt64Array(d.shared);
  const streamer = new FlowStreamer(d.options);
  const fields = streamer.fields;
  const index = buildColumnIndex(fields);
  const idColumn = fields.findIndex((f) => f.name === 'id');
  const size = d.options.batchSize ?? numberDefault('--batch-size');
  // CSV and JSON Lines: the rows are made in C after each step, their ids the spread's
  const plan = d.encode && textPlan(d.encode.format, fields, d.maxFlows);
  const encoder = d.encode && !plan ? laneEncoder(d.encode.format, fields, d.encode.writer) : undefined;
  const meter = loadNative().openLane(d.spread, d.lane, streamer.nativeOptions());
  if (plan) meter.textOutput(plan);
  const killed = () => Atomics.load(shared, KILLED) !== 0n;
  const postGroups = async (end: boolean) => {
    const groups = encoder ? await encoder.groups(end) : [];
    if (groups.length) port.postMessage({ t: 'groups', groups } satisfies FromLane);
  };
  try {
    for (;;) {
      if (killed()) break;
      if (plan) {
        waitForWriter(shared, size, killed);
        const p = nextPartSync(meter, size);
        if (!p) break;
        if (p.length) advanceTo(shared, p.first + p.length);
        const bytes = p.length ? [p.bytes] : undefined;
        port.postMessage({ t: 'part', first: p.length ? p.first : -1, flows: p.length, bytes, counters: p.counters } satisfies FromLane, owned(bytes ?? []));
        continue;
      }
      const nb = meter.nextSync(size);
      if (!nb) break;
      if (!nb.length) { port.postMessage({ t: 'part', first: -1, flows: 0, counters: nb.counters } satisfies FromLane); continue; }
      waitForWriter(shared, size, killed);
      const first = Number(Atomics.add(shared, NEXT_ID, BigInt(nb.length)));
      const batch = toBatch(fields, index, nb);
      const ids = batch.columns[idColumn] as Float64Array;
      for (let r = 0; r < batch.length; r++) ids[r] = first + r;
      const keep = d.maxFlows ? Math.max(0, Math.min(batch.length, d.maxFlows - first)) : batch.length;
      const rows = keep < batch.length ? batch.slice(0, keep) : batch;
      if (!encoder) {
        port.postMessage({ t: 'part', first, flows: batch.length, columns: [...rows.columns], counters: nb.counters } satisfies FromLane);
        continue;
      }
      const encoded = keep ? await encoder.batch(rows) : { bytes: [] };
      port.postMessage({ t: 'part', first, flows: batch.length, ...encoded, counters: nb.counters } satisfies FromLane, owned(encoded.bytes));
      await postGroups(false);
    }
    if (!killed()) await postGroups(true);
  } catch (e) {
    // before 'done': the parent ends a run once no lane is running, and an error after the last
    // lane's 'done' would be lost
    const err = e as Error & { code?: string };
    port.postMessage({ t: 'error', message: err.message, code: err.code } satisfies FromLane);
  } finally {
    const stats = meter.stats();
    meter.close();
    port.postMessage({ t: 'done', stats } satisfies FromLane);
  }
}

// a lane that fails before its meter opens (its own 'done' never comes: the thread's exit ends it)
main(workerData as LaneData).catch((e: Error & { code?: string }) => {
  parentPort?.postMessage({ t: 'error', message: e.message, code: e.code } satisfies FromLane);
});
