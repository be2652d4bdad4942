/**
 * model: runs an ONNX model (onnxruntime-node) on each flow and writes model_prediction, and
 * model_probability_<class> where the model gives probabilities. Features are flowseek columns,
 * read when the flow ends, or as they stood at its Nth packet with predictAt N (then only the
 * counters a hook sees: packets, bytes, times, durations; a shorter flow is predicted at its
 * end). The flows ending in a batch go through the model together, one run per batch.
 *
 *   flowseek read t.pcap --plugin model --model classifier.onnx --features bidirectional_packets,bidirectional_bytes
 */
import { checkOwnerOnlyWritable } from '../trust';
import * as fs from 'node:fs';
import { FIELDS } from '../../schema';
import { definePlugin, ExpiredFlow, PluginFlow, Udps } from '../api';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

/** What a hook sees at a packet: the only features predictAt can use. */
const AT_PACKET = ['bidirectional', 'src2dst', 'dst2src'].flatMap((s) =>
  ['first_seen_ms', 'last_seen_ms', 'duration_ms', 'packets', 'bytes'].map((k) => `${s}_${k}`));

/** A configuration mistake: the run ends with it instead of counting it per flow. */
const fatal = (message: string) => Object.assign(new Error(message), { fatal: true });

let ort: Ort | undefined;
let session: Session | undefined;
let features: string[] = [];
let predictAt = 0;
/** predictAt: each flow's features at its Nth packet */
const early = new WeakMap<Udps, number[]>();

export default definePlugin({
  name: 'model',
  options: { model: '', features: '', predictAt: 0 },
  columns: { model_prediction: 'float64' },
  async onStart() {
    const file = String(this.options.model ?? '');
    if (!file) throw fatal('needs a model: --model FILE.onnx');
    if (!fs.existsSync(file)) throw fatal(`${file}: no such file`);
    checkOwnerOnlyWritable(file, 'model');
    features = String(this.options.features ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!features.length) throw fatal('needs the model\'s inputs, in order: --features column,column,...');
    const known = new Set(FIELDS.map((f) => f.name));
    const unknown = features.filter((f) => !known.has(f));
    if (unknown.length) throw fatal(`not flowseek columns: ${unknown.join(', ')} (see: flowseek fields)`);
    predictAt = Number(this.options.predictAt ?? 0);
    if (!Number.isInteger(predictAt) || predictAt < 0) throw fatal(`--predict-at must be a whole number of packets, got ${this.options.predictAt}`);
    const late = predictAt ? features.filter((f) => !AT_PACKET.includes(f)) : [];
    if (late.length) throw fatal(`with --predict-at, features can only be ${AT_PACKET.join(', ')}; not ${late.join(', ')}`);
    try {
      ort = require('onnxruntime-node') as Ort;
    } catch {
      throw fatal('the model plugin needs onnxruntime-node: npm install onnxruntime-node');
    }
    try {
      session = await ort.InferenceSession.create(file);
    } catch (e) {
      throw fatal(`${file}: not a model onnxruntime can load: ${(e as Error).message.split('\n')[0]}`);
    }
  },
  onUpdate(packet, flow) {
    if (predictAt && flow.bidirectional_packets === predictAt) remember(flow);
  },
  onInit(packet, flow) {
    if (predictAt === 1) remember(flow);
  },
  async onBatch(flows: ExpiredFlow[]) {
    const s = session as Session, rt = ort as Ort;
    const k = features.length;
    const x = new Float32Array(flows.length * k);
    flows.forEach((f, r) => {
      const saved = early.get(f.udps);
      features.forEach((name, j) => {
        const v = saved ? saved[j] : f[name];
        if (typeof v !== 'number') throw fatal(`feature ${name} is not in this run's columns (its option, e.g. --stats, is off)`);
        x[r * k + j] = v;
      });
    });
    let out: Record<string, import('onnxruntime-node').Tensor>;
    try {
      out = await s.run({ [s.inputNames[0]]: new rt.Tensor('float32', x, [flows.length, k]) });
    } catch (e) {
      throw fatal(`the model does not take ${k} features (${features.join(', ')}) as float [N, ${k}]: ${(e as Error).message.split('\n')[0]}`);
    }
    const [labelName, probName] = s.outputNames;
    const label = out[labelName].data as ArrayLike<number | bigint>;
    const prob = probName ? out[probName] : undefined;
    const classes = prob && prob.dims.length === 2 && prob.dims[0] === flows.length ? Number(prob.dims[1]) : 0;
    flows.forEach((f, r) => {
      f.udps.model_prediction = Number(label[r]);
      for (let c = 0; c < classes; c++) f.udps[`model_probability_${c}`] = Number((prob?.data as Float32Array)[r * classes + c]);
    });
  },
});

function remember(flow: PluginFlow): void {
  const view = flow as unknown as Record<string, number>;
  early.set(flow.udps, features.map((name) => view[name]));
}
