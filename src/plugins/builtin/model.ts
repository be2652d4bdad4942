/**
 * model: runs an ONNX model (onnxruntime-node) on each flow and writes model_prediction (the
 * class index), model_label (its name, when class names are given), model_probability_<i> (the
 * model's class scores) and model_packets (the packets the prediction saw).
 *
 * Inputs are built from flowseek columns (--features, see model/spec.ts): scalars as [N, k],
 * payload_bytes as [N, L], header_bytes as [N, P, W], SPLT lists as [N, C, S], several named
 * inputs for a model that has several; the element type and every size but the batch's come from
 * the model's own input metadata. Normalisation and class names come from the model's metadata
 * or from files (normalization=, labels=).
 *
 * Without predictAt the flows ending in a batch go through the model together, their inputs
 * read from the batch's columns. With predictAt N, each flow's inputs are gathered from its
 * packets as they arrive and it is predicted at its Nth packet, while still open, with the flows
 * that reached theirs in the same batch (a shorter flow at its end); with predictions=FILE (the
 * CLI's --predictions) each prediction is also written at once as a JSON line with the flow's key.
 *
 *   flowseek read t.pcap --payload-bytes 784 --plugin model --model cnn.onnx --features payload_bytes
 */
import * as fs from 'node:fs';
import { checkOwnerOnlyWritable } from '../trust';
import { BatchColumn, definePlugin, ExpiredFlow, PluginContext, PluginFlow, Udps } from '../api';
import { Binding, bindInputs, ModelInput } from '../model/bind';
import { EarlyStore } from '../model/early';
import { fatal, InputBuffers } from '../model/fill';
import { checkReadable, modelExtras } from '../model/metadata';
import { OutputPlan, planOutputs } from '../model/outputs';
import { AT_PACKET, parseFeatures } from '../model/spec';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;
type Options = { model: string; features: string; predictAt: number; predictions: string; labels: string; normalization: string; threads: number; batch: number };

/** A flow predicted at its Nth packet, waiting for this batch's run. */
interface Due { udps: Udps; slot: number; key: Record<string, unknown> }

const KEY = ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'vlan_id', 'tunnel_id', 'bidirectional_first_seen_ms'] as const;

let ort: Ort;
let session: Session;
let bindings: Binding[] = [];
let buffers: InputBuffers;
let plan: OutputPlan;
let labels: string[] | undefined;
let predictAt = 0;
let store: EarlyStore;
let stream = false;
const slotOf = new WeakMap<Udps, number>();
/** flows predicted early (or waiting to be): their later packets change nothing */
const settled = new WeakSet<Udps>();
let due: Due[] = [];
/** flows per run of the model: a batch's inputs are one array, run a slice at a time, as a
 * model's working memory for a few hundred flows stays in the CPU's caches */
let chunk = 256;
let labelOut = new Float64Array(0);
let PROBABILITY: string[] = [];
let scoresOut = new Float32Array(0);

export default definePlugin<Options>({
  name: 'model',
  options: { model: '', features: '', predictAt: 0, predictions: '', labels: '', normalization: '', threads: 1, batch: 256 },
  columns: { model_prediction: 'float64' },
  columnsOnly: true,
  async onStart() {
    const o = this.options;
    const file = String(o.model ?? '');
    if (!file) throw fatal('needs a model: --model FILE.onnx');
    try { checkReadable(file, 'model'); } catch (e) { throw fatal((e as Error).message); }
    checkOwnerOnlyWritable(file, 'model');
    const specs = parseFeatures(String(o.features ?? ''));
    predictAt = Number(o.predictAt ?? 0);
    if (!Number.isInteger(predictAt) || predictAt < 0) throw fatal(`--predict-at must be a whole number of packets, got ${o.predictAt}`);
    const late = predictAt ? specs.flatMap((s) => (s.source.kind === 'scalar' ? s.source.columns.filter((c) => !AT_PACKET.includes(c)) : [])) : [];
    if (late.length) throw fatal(`with --predict-at, scalar features can only be ${AT_PACKET.join(', ')} (or payload_bytes, header_bytes, splt); not ${late.join(', ')}`);
    const threads = Number(o.threads ?? 1);
    if (!Number.isInteger(threads) || threads < 1) throw fatal(`threads must be a whole number of threads from 1, got ${o.threads}`);
    chunk = Number(o.batch ?? 256);
    if (!Number.isInteger(chunk) || chunk < 1) throw fatal(`batch must be a whole number of flows from 1, got ${o.batch}`);
    ort = loadOnnxRuntime();
    const bytes = fs.readFileSync(file);
    try {
      // one session per process (a worker each), one thread each: workers are the parallelism
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 4 });
    } catch (e) {
      throw fatal(`${file}: not a model onnxruntime can load: ${(e as Error).message.split('\n')[0]}`);
    }
    const extras = modelExtras(bytes, file, String(o.labels ?? '') || undefined, String(o.normalization ?? '') || undefined);
    labels = extras.labels;
    bindings = bindInputs(specs, session.inputMetadata as readonly ModelInput[], extras.normalization, file);
    plan = planOutputs(session.outputMetadata as readonly ModelInput[], labels, file);
    PROBABILITY = Array.from({ length: plan.classes }, (_, j) => `model_probability_${j}`);
    buffers = new InputBuffers(bindings);
    store = new EarlyStore(bindings);
    stream = Boolean(o.predictions);
  },
  // at a flow's end its inputs are the batch's columns: the packets matter only with predictAt
  wantsPackets() {
    return predictAt > 0;
  },
  onInit(packet, flow) {
    if (!predictAt) return;
    const slot = store.take();
    slotOf.set(flow.udps, slot);
    store.add(slot, packet, flow);
    if (predictAt === 1) markDue(flow, slot);
  },
  onUpdate(packet, flow) {
    if (!predictAt || settled.has(flow.udps)) return;
    let slot = slotOf.get(flow.udps);
    if (slot === undefined) {
      // its first packet came before a restart: it starts from here
      slot = store.take();
      slotOf.set(flow.udps, slot);
    }
    store.add(slot, packet, flow);
    if (flow.bidirectional_packets >= predictAt) markDue(flow, slot);
  },
  async onPackets() {
    if (!due.length) return;
    const now = due;
    due = [];
    buffers.reserve(now.length);
    now.forEach((d, r) => buffers.fromEarly(store, d.slot, r));
    const result = await run(now.length);
    now.forEach((d, r) => {
      write(d.udps, result, r, predictAt);
      store.release(d.slot);
      if (stream && !failedRows[r]) emit(this, { ...d.key, early: true, ...record(d.udps) });
    });
    throwFailure();
  },
  async onBatch(flows: ExpiredFlow[], cols) {
    // the flows not predicted yet: from the early store (predictAt) or the batch's columns
    const fromStore: number[] = [], fromCols: number[] = [];
    flows.forEach((f, i) => {
      if (settled.has(f.udps)) return;
      (slotOf.has(f.udps) ? fromStore : fromCols).push(i);
    });
    const n = fromStore.length + fromCols.length;
    if (!n) return;
    buffers.reserve(n);
    fromStore.forEach((i, r) => buffers.fromEarly(store, slotOf.get(flows[i].udps) as number, r));
    buffers.fromColumns(cols, fromCols, fromStore.length);
    const result = await run(n);
    const packets = cols.column('bidirectional_packets') as Float64Array;
    const key = stream ? KEY.map((k) => [k, cols.column(k)] as const) : [];
    [...fromStore, ...fromCols].forEach((i, r) => {
      const f = flows[i], row = cols.rows[i];
      write(f.udps, result, r, packets[row]);
      const slot = slotOf.get(f.udps);
      if (slot !== undefined) { store.release(slot); slotOf.delete(f.udps); }
      if (stream && !failedRows[r]) emit(this, { ...Object.fromEntries(key.map(([k, c]) => [k, valueAt(c, row)])), early: false, ...record(f.udps) });
    });
    throwFailure();
  },
});

/** A scalar column's value at a row (addresses are text, times may be BigInt). */
function valueAt(c: BatchColumn | undefined, row: number): unknown {
  if (!c) return undefined;
  if (Array.isArray(c)) return c[row];
  if (c instanceof Float64Array) return c[row];
  if (c instanceof BigUint64Array) return Number(c[row]);
  return undefined;
}

function markDue(flow: PluginFlow, slot: number): void {
  settled.add(flow.udps);
  slotOf.delete(flow.udps);
  const key: Record<string, unknown> = {};
  for (const k of KEY) key[k] = flow[k];
  due.push({ udps: flow.udps, slot, key });
}

interface Result { label: Float64Array | undefined; scores: Float32Array | undefined }

/** Rows of the last run() the model failed on (1), and the first failure's words. */
let failedRows = new Uint8Array(0);
let failure: string | undefined;

/** Ends a hook whose run() failed somewhere, as a hook error (after its other flows were written). */
function throwFailure(): void {
  const f = failure;
  failure = undefined;
  if (f) throw new Error(f);
}

async function run(n: number): Promise<Result> {
  const values = bindings.map((b, i) => buffers.values(i, n));
  if (failedRows.length < n) failedRows = new Uint8Array(2 * n);
  failedRows.fill(0, 0, n);
  if (labelOut.length < n) { labelOut = new Float64Array(2 * n); scoresOut = new Float32Array(2 * n * plan.classes); }
  const c = plan.classes;
  for (let at = 0; at < n; at += chunk) {
    const m = Math.min(chunk, n - at);
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
    bindings.forEach((b, i) => { feeds[b.input] = new ort.Tensor(b.elem, values[i].subarray(at * b.rowSize, (at + m) * b.rowSize), [m, ...b.dims]); });
    let out: Record<string, import('onnxruntime-node').Tensor>;
    try {
      out = await session.run(feeds);
    } catch (e) {
      // these flows go on without a prediction; the failure is the hook's, counted or fatal by
      // --plugin-errors once the rest of the batch is done
      failedRows.fill(1, at, at + m);
      failure ??= `the model failed on ${m} flows: ${(e as Error).message.split('\n')[0]}`;
      continue;
    }
    if (plan.label) { const d = out[plan.label].data as ArrayLike<number | bigint>; for (let r = 0; r < m; r++) labelOut[at + r] = Number(d[r]); }
    if (plan.scores) scoresOut.set(out[plan.scores].data as Float32Array, at * c);
  }
  return { label: plan.label ? labelOut : undefined, scores: plan.scores ? scoresOut : undefined };
}

function write(udps: Udps, res: Result, r: number, packets: number): void {
  if (failedRows[r]) return; // no prediction: its columns stay empty
  const c = plan.classes;
  let k = 0;
  if (res.label) k = Number(res.label[r]);
  else if (res.scores) for (let j = 1; j < c; j++) if (res.scores[r * c + j] > res.scores[r * c + k]) k = j;
  udps.model_prediction = k;
  if (labels) udps.model_label = labels[k] ?? '';
  if (res.scores) for (let j = 0; j < c; j++) udps[PROBABILITY[j]] = res.scores[r * c + j];
  udps.model_packets = packets;
}

function record(udps: Udps): Record<string, unknown> {
  const out: Record<string, unknown> = { packets: udps.model_packets, prediction: udps.model_prediction };
  if (labels) out.label = udps.model_label;
  if (plan.classes) out.probabilities = PROBABILITY.map((name) => udps[name]);
  return out;
}

function emit(ctx: PluginContext<Options>, r: Record<string, unknown>): void {
  ctx.emit(r);
}

/** Loads onnxruntime-node while a capture worker still has its privileges (see preloadShipped);
 * a failure is said when the plugin starts. */
export function preload(): void {
  try { loadOnnxRuntime(); } catch { /* said at onStart, as without a preload */ }
}

/** onnxruntime-node, which flowseek does not install (an optional peer dependency: 288 MB installed). */
function loadOnnxRuntime(): Ort {
  try {
    const loaded = require('onnxruntime-node') as Ort;
    // its own log lines (a telemetry warning as root, an error beside each failed run) went to
    // stderr past -q and --log-format json: what fails is said by flowseek, on one line
    loaded.env.logLevel = 'fatal';
    return loaded;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'onnxruntime-node'/.test(String((e as Error).message));
    if (!missing) throw fatal(`onnxruntime-node does not load: ${String((e as Error).message).split('\n')[0]}`);
    const range = (require('../../../../package.json') as { peerDependencies: Record<string, string> }).peerDependencies['onnxruntime-node'];
    throw fatal(`the model plugin needs onnxruntime-node, which is not installed with flowseek. Install it beside flowseek: ` +
      `ONNXRUNTIME_NODE_INSTALL=skip npm install -g onnxruntime-node@${range} (for a global or Debian-packaged flowseek; ` +
      `in a project that depends on flowseek, the same without -g). ONNXRUNTIME_NODE_INSTALL=skip keeps its install ` +
      `script from downloading CUDA libraries: its CPU build is in the package.`);
  }
}
