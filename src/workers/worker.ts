/**
 * A worker process: one meter (a fanout member on an interface, or a hash partition of files)
 * whose finished flows go to the parent in batches. Signals are the parent's business: the
 * worker stops when told. A parent that went away (killed, crashed) takes its channel with it:
 * the worker then ends at once and quietly, as nobody is left to receive its flows.
 */
// first: stop signals are the parent's business from the worker's first moment
import './worker-signals';
import { FlowseekError } from '../errors';
import { loadNative, NativeStats } from '../native';
import { catchStrayErrors, guardExit, onStrayError, realExit } from '../plugins/contain';
import { preloadShipped } from '../plugins/load';
import { FlowStreamer } from '../streamer';
import { FromWorker, ToWorker } from './messages';

let finished = false;

function send(m: FromWorker): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send || !process.connected) return reject(new Error('the parent went away'));
    process.send(m, undefined, {}, (e) => (e ? reject(e) : resolve()));
  });
}

const peakRssKb = () => process.resourceUsage().maxRSS;

async function run(options: ToWorker & { t: 'start' }): Promise<void> {
  const streamer = new FlowStreamer(options.options);
  if (options.options.reportNewFlows) streamer.onNewFlows = (keys) => void send({ t: 'newFlows', keys }).catch(() => undefined);
  streamer.onPluginRecords = (records) => void send({ t: 'records', records }).catch(() => undefined);
  process.on('message', (m: ToWorker) => { if (m.t === 'stop') streamer.stop(); });
  try {
    if (options.options.interface) {
      // the capture socket is opened with the privileges it needs, which are then dropped:
      // plugin and model code only ever runs without them
      streamer.open();
      preloadShipped(options.options.plugins ?? []);
      loadNative().dropPrivileges();
      // the socket takes packets from now on (the kernel holds them); the parent says the capture
      // has begun once every worker's plugins have started too: a model that cannot load is said
      // before "capturing on", not after it
      await streamer.loadPlugins();
      await send({ t: 'ready' });
    } else {
      await streamer.loadPlugins();
      streamer.open();
      await send({ t: 'ready' });
    }
    // an error nothing awaited (a plugin's stray rejection): the flows so far go, then the error
    let stray: FlowseekError | undefined;
    onStrayError((e) => { stray ??= e; streamer.stop(); });
    if (options.text) {
      // every part, those without flows too: they carry the counters a capture's --report and
      // SIGUSR1 say (a capture whose flows stayed open reported 0 packets to its end)
      for await (const p of streamer.textRows(options.text, true)) {
        await send({ t: 'text', length: p.length, bytes: p.bytes, ends: p.ends ?? new Uint32Array(0), stats: p.counters, peakRssKb: peakRssKb() });
        loadNative().release(p.bytes); // sent (a copy went into the channel): the meter's buffer goes back to it
      }
    } else {
      for await (const b of streamer.batches()) {
        const udps = b.fields.filter((f) => f.group === 'udps');
        await send({ t: 'batch', length: b.length, columns: [...b.columns], udps, stats: streamer.progress() as NativeStats, peakRssKb: peakRssKb() });
      }
    }
    if (stray) throw stray;
    await send({ t: 'done', stats: streamer.stats() as NativeStats, peakRssKb: peakRssKb() });
  } catch (e) {
    const err = e as FlowseekError;
    await send({ t: 'error', message: err.message, code: err.code ?? 'FS_INTERNAL', exitCode: err.exitCode ?? 1 }).catch(() => undefined);
  }
  finished = true;
  if (process.connected) process.disconnect();
}

// plugin code runs here: its process.exit and stray errors end the run as plugin errors
guardExit();
catchStrayErrors();
// the parent is gone: its flows have nowhere to go; end now, without a word
process.on('disconnect', () => { if (!finished) realExit(0); });
// a send to a closed channel: the disconnect above says it
process.on('error', () => undefined);
process.once('message', (m: ToWorker) => {
  if (m.t === 'start') void run(m);
});
