/**
 * The flow source for a run, chosen once from the parsed options: one meter in this process
 * (FlowStreamer), meters on threads over one reading of the files (LaneSet), worker processes
 * (WorkerPool: plugins with --workers, and every capture), wrapped in SystemVisibility when a
 * capture names the process behind each flow.
 */
import * as os from 'node:os';
import { FlowseekError } from './errors';
import { checkPluginFiles } from './plugins/load';
import { CaptureOptions, ReadOptions } from './options';
import { FlowSource } from './run';
import { FlowStreamer, StreamerOptions } from './streamer';
import { openOwnerSource } from './system/bpf';
import { OwnerSource, SocketPoller, SystemVisibility } from './system/visibility';
import { LaneSet } from './workers/lanes';
import { WorkerPool } from './workers/pool';

export interface SourceHooks {
  warn(message: string): void;
  info?(message: string): void;
  /** what plugins emit besides flows (the model plugin's early predictions) */
  pluginRecords(records: Record<string, unknown>[]): void;
  /** read: a batch at least this often, full or not (a terminal's progress line, a report's counters) */
  yieldMs?: number;
}

export async function openSource(opts: ReadOptions | CaptureOptions, hooks: SourceHooks): Promise<FlowSource> {
  return 'interface' in opts ? openCapture(opts, hooks) : openRead(opts, hooks);
}

async function openRead(opts: ReadOptions, hooks: SourceHooks): Promise<FlowSource> {
  if (opts.workers > 1 && !opts.plugins?.length) {
    const cores = os.availableParallelism();
    if (opts.workers > cores) {
      const these = cores === 1 ? 'the one core' : `the ${cores} cores`;
      hooks.warn(`--workers ${opts.workers}: more lanes than ${these} this process may use; lanes beyond that share ${cores === 1 ? 'it' : 'them'} and add no speed`);
    }
    return new LaneSet({ ...opts, yieldMs: hooks.yieldMs }, opts.workers);
  }
  if (opts.workers > 1) {
    // plugins run JavaScript per packet: each worker process runs its own copy
    await FlowStreamer.checkPlugins(opts);
    FlowStreamer.check(opts);
    return workerPool({ ...opts, yieldMs: hooks.yieldMs }, hooks);
  }
  const streamer = new FlowStreamer({ ...opts, yieldMs: hooks.yieldMs ?? 0 });
  streamer.onPluginRecords = hooks.pluginRecords;
  await streamer.loadPlugins();
  streamer.open();
  return streamer;
}

async function openCapture(opts: CaptureOptions, hooks: SourceHooks): Promise<FlowSource> {
  // open once here so a missing interface, a permission, a bad filter or a plugin that does not
  // load fails before any worker starts
  // plugins are not run here (this process keeps its privileges): their files are checked, and
  // the workers load them once they have dropped theirs
  checkPluginFiles(opts.plugins ?? []);
  FlowStreamer.check({ ...opts, systemVisibility: false });
  const owners = opts.systemVisibility ? openOwners(opts, hooks) : undefined;
  // polling: workers report each new flow within a poll interval, to be looked up
  const poller = owners instanceof SocketPoller ? owners : undefined;
  const pool = workerPool({ ...opts, systemVisibility: false, reportNewFlows: poller !== undefined, yieldMs: poller ? opts.systemVisibilityPollMs : undefined },
    hooks);
  if (poller) pool.onNewFlows = (keys) => poller.lookup(keys);
  return owners ? new SystemVisibility(pool, opts, owners) : pool;
}

/** System visibility's source: kernel events where BPF loads, else the poller, said in one line.
 * Sockets stay known for a while after they close: until their flow can have ended idle. */
function openOwners(opts: CaptureOptions, hooks: SourceHooks): OwnerSource {
  const visibility = openOwnerSource(opts.systemVisibilityMode, opts.systemVisibilityPollMs, opts.idleTimeoutMs + 60_000);
  if ('unavailable' in visibility && opts.systemVisibilityMode === 'bpf') {
    visibility.source.stop();
    throw new FlowseekError(`--system-visibility-mode bpf: ${visibility.unavailable}`, 'FS_BPF');
  }
  if ('unavailable' in visibility) hooks.warn(visibility.line);
  else hooks.info?.(visibility.line);
  return visibility.source;
}

function workerPool(opts: StreamerOptions & { workers: number }, hooks: SourceHooks): WorkerPool {
  const pool = new WorkerPool(opts, opts.workers);
  pool.onWarning = hooks.warn;
  pool.onPluginRecords = hooks.pluginRecords;
  return pool;
}
