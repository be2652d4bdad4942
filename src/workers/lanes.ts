/**
 * `read --workers N` without plugins: N meters in this process over one reading of the files
 * (native/spread.c). A reader thread decodes each frame once and hands it to the meter of its
 * host-pair partition; each meter runs on a pool thread; batches are yielded as they come, with
 * `id` renumbered in arrival order. Unlike worker processes, no meter reads frames that are not
 * its own and no flow crosses a process boundary.
 */
import { NativeStats } from '../native';
import { Field } from '../schema';
import { FlowBatch } from '../flow-batch';
import { FlowStreamer, StreamerOptions } from '../streamer';
import { activeFlowsShare } from './share';
import { mergeStats } from './stats';

type Pulled = { lane: number; result: IteratorResult<FlowBatch> };

export class LaneSet {
  private readonly lanes: FlowStreamer[];
  private nextId = 0;

  constructor(options: StreamerOptions, size: number) {
    // libuv runs next() on its pool (4 threads unless UV_THREADPOOL_SIZE says more): a lane
    // waiting for frames gives its thread back within 20 ms, so file writes are never starved
    this.lanes = FlowStreamer.lanes({ ...options, maxActiveFlows: activeFlowsShare(options.maxActiveFlows, size) }, size);
  }

  get fields(): readonly Field[] {
    return this.lanes[0].fields;
  }

  async *batches(): AsyncGenerator<FlowBatch> {
    const idColumn = this.fields.findIndex((f) => f.name === 'id');
    const iterators = this.lanes.map((l) => l.batches());
    const pending = new Map<number, Promise<Pulled>>();
    const pull = (lane: number) => {
      const p = iterators[lane].next().then((result) => ({ lane, result }));
      p.catch(() => undefined); // raced below; a lane that fails is reported once, from there
      pending.set(lane, p);
    };
    iterators.forEach((_, lane) => pull(lane));
    try {
      while (pending.size) {
        const { lane, result } = await Promise.race(pending.values());
        pending.delete(lane);
        if (result.done) continue;
        pull(lane);
        const batch = result.value;
        if (!batch.length) continue;
        const ids = batch.columns[idColumn] as Float64Array;
        for (let r = 0; r < batch.length; r++) ids[r] = this.nextId++;
        yield batch;
      }
    } finally {
      // the consumer left, or a lane failed: every lane ends and frees its meter
      this.stop();
      await Promise.allSettled(iterators.map((it) => it.return(undefined)));
    }
  }

  /** The reader stops; every lane flushes its open flows. */
  stop(): void {
    for (const l of this.lanes) l.stop();
  }

  /** Every lane ends at once; open flows are not flushed. */
  kill(): void {
    for (const l of this.lanes) l.kill();
  }

  stats(): NativeStats {
    return mergeStats(this.lanes.map((l) => l.stats()), false, this.nextId);
  }

  counters(): { total?: NativeStats; perWorker?: (NativeStats | undefined)[] } {
    const each = this.lanes.map((l) => l.progress());
    return { total: mergeStats(each, false, this.nextId), perWorker: each };
  }
}
