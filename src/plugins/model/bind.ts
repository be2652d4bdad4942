/**
 * Ties each --features input to one of the model's inputs and checks it against the model's own
 * metadata: element type, rank, and every size but the batch axis. A mismatch is a message that
 * names the input, what the model declares and what the columns give.
 */
import { describe, InputSpec } from './spec';
import { Normalization } from './metadata';

export type Elem = 'float32' | 'float64' | 'uint8' | 'int32' | 'int64';

export interface ModelInput { name: string; type?: string; shape: readonly (number | string)[] }

export interface Binding {
  input: string;
  spec: InputSpec;
  elem: Elem;
  /** the model's dims after the batch axis */
  dims: number[];
  /** values per flow */
  rowSize: number;
  /** the source's sizes: scalars k, payload L, header P x W, splt S (per channel) */
  k: number; L: number; P: number; W: number; S: number;
  /** bytes as float: scaled to 0..1 */
  scaleBytes: boolean;
  /** the raw value v goes in as v * mul + add (bytes' scaling and normalisation in one), one
   * pair per element of a row; undefined: as it is */
  mul?: Float32Array; add?: Float32Array;
}

const FLOATS: readonly string[] = ['float32', 'float64'];
const show = (m: ModelInput) => `${m.type ?? '?'} [${['N', ...m.shape.slice(1)].join(', ')}]`;

function bindOne(spec: InputSpec, m: ModelInput, model: string): Binding {
  const s = spec.source;
  const what = describe(s);
  const fail = (needs: string) => new Error(`input "${m.name}" of ${model} is ${show(m)}; ${what} ${needs}`);
  if (!m.type || !m.shape.length) throw new Error(`input "${m.name}" of ${model} is not a tensor with a shape: the plugin needs its type and shape`);
  if (typeof m.shape[0] === 'number' && m.shape[0] > 0) {
    throw new Error(`input "${m.name}" of ${model} has a fixed batch size of ${m.shape[0]}: export it with a dynamic first axis (flows are predicted many at a time)`);
  }
  const rest = m.shape.slice(1);
  const symbolic = rest.findIndex((d) => typeof d !== 'number' || d <= 0);
  if (symbolic >= 0) throw new Error(`input "${m.name}" of ${model} is ${show(m)}: axis ${symbolic + 1} has no fixed size, and the plugin takes every size but the batch's from the model`);
  const dims = rest as number[];
  const rowSize = dims.reduce((a, b) => a * b, 1);
  const b: Binding = { input: m.name, spec, elem: m.type as Elem, dims, rowSize, k: 0, L: 0, P: 0, W: 0, S: 0, scaleBytes: false };
  switch (s.kind) {
    case 'scalar':
      if (dims.length !== 1 || dims[0] !== s.columns.length) {
        throw new Error(`the model does not take ${s.columns.length} features (${what}) as float [N, ${s.columns.length}]: its input "${m.name}" is ${show(m)}`);
      }
      if (!FLOATS.includes(m.type)) throw fail('go in as float32 or float64');
      b.k = s.columns.length;
      break;
    case 'payload':
      if (!(dims.length === 1 || (dims.length === 2 && dims[0] === 1))) throw fail('needs [N, L] or [N, 1, L] (L payload bytes)');
      if (m.type !== 'uint8' && !FLOATS.includes(m.type)) throw fail('goes in as uint8, or as float scaled to 0..1');
      b.L = dims[dims.length - 1];
      b.scaleBytes = m.type !== 'uint8';
      break;
    case 'header':
      if (!(dims.length === 2 || (dims.length === 3 && dims[0] === 1))) throw fail('needs [N, P, W] or [N, 1, P, W] (P packets of W header bytes)');
      if (m.type !== 'uint8' && !FLOATS.includes(m.type)) throw fail('goes in as uint8, or as float scaled to 0..1');
      b.P = dims[dims.length - 2];
      b.W = dims[dims.length - 1];
      b.scaleBytes = m.type !== 'uint8';
      break;
    case 'splt': {
      const c = s.channels.length;
      const ok = (dims.length === 2 && dims[0] === c) || (c === 1 && dims.length === 1);
      if (!ok) throw fail(`needs [N, ${c}, S]${c === 1 ? ' or [N, S]' : ''} (${c} channel${c === 1 ? '' : 's'} of S packets)`);
      if (!FLOATS.includes(m.type) && m.type !== 'int64' && m.type !== 'int32') throw fail('goes in as float32, float64, int32 or int64 (it holds -1)');
      b.S = dims[dims.length - 1];
      break;
    }
  }
  return b;
}

function normalize(b: Binding, n: Normalization, model: string): void {
  if (!FLOATS.includes(b.elem)) throw new Error(`normalization for input "${b.input}" of ${model}: it is ${b.elem}, and only float inputs are normalised`);
  const channels = b.dims.length > 1 || b.spec.source.kind === 'scalar' ? b.dims[0] : 1;
  const expand = (v: number[], what: string): Float32Array => {
    const out = new Float32Array(b.rowSize);
    if (v.length === 1) out.fill(v[0]);
    else if (v.length === b.rowSize) out.set(v);
    else if (v.length === channels) { const per = b.rowSize / channels; v.forEach((x, c) => out.fill(x, c * per, (c + 1) * per)); }
    else throw new Error(`normalization for input "${b.input}" of ${model}: ${what} has ${v.length} values; the input has ${channels} channel${channels === 1 ? '' : 's'} and ${b.rowSize} values a flow`);
    return out;
  };
  const mean = expand(n.mean, 'mean');
  const std = expand(n.std, 'std');
  const scale = b.scaleBytes ? 1 / 255 : 1;
  b.mul = std.map((s) => scale / s);
  b.add = mean.map((m, j) => -m / std[j]);
}

/** Bytes as float without normalisation: scaled to 0..1 all the same. */
function scaleOnly(b: Binding): void {
  if (!b.scaleBytes || b.mul) return;
  b.mul = new Float32Array(b.rowSize).fill(1 / 255);
  b.add = new Float32Array(b.rowSize);
}

/** One binding per model input, in the model's order. */
export function bindInputs(specs: InputSpec[], inputs: readonly ModelInput[], norm: Map<string, Normalization>, model: string): Binding[] {
  const names = inputs.map((m) => m.name);
  if (specs.length > inputs.length) throw new Error(`--features gives ${specs.length} inputs; ${model} takes ${inputs.length} (${names.join(', ')})`);
  const given = new Map<string, InputSpec>();
  for (const s of specs.filter((x) => x.name !== undefined)) {
    if (!names.includes(s.name as string)) throw new Error(`${model} has no input "${s.name}" (its inputs: ${names.join(', ')})`);
    if (given.has(s.name as string)) throw new Error(`--features names input "${s.name}" twice`);
    given.set(s.name as string, s);
  }
  const unnamed = specs.filter((x) => x.name === undefined);
  for (const name of names) if (!given.has(name) && unnamed.length) given.set(name, unnamed.shift() as InputSpec);
  for (const name of norm.keys()) if (!names.includes(name)) throw new Error(`normalization for "${name}": ${model} has no such input (its inputs: ${names.join(', ')})`);
  return inputs.map((m) => {
    const spec = given.get(m.name);
    if (!spec) throw new Error(`input "${m.name}" of ${model} has no features: give each input its columns, e.g. --features "${names.map((n) => `${n}=...`).join(';')}"`);
    const b = bindOne(spec, m, model);
    const n = norm.get(m.name);
    if (n) normalize(b, n, model);
    scaleOnly(b);
    return b;
  });
}
