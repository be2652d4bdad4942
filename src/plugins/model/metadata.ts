/**
 * What training saved beside the weights: class names and input normalisation, read from the
 * model's own metadata (ONNX metadata_props "flowseek.labels", "flowseek.normalization", both
 * JSON) or from files given with the labels= and normalization= plugin options, which win.
 * The model file is parsed only at its top level, every length checked: a malformed one simply
 * has no metadata here (onnxruntime then says what is wrong with it).
 */
import * as fs from 'node:fs';
import { checkOwnerOnlyWritable } from '../trust';

export const LABELS_KEY = 'flowseek.labels';
export const NORMALIZATION_KEY = 'flowseek.normalization';

/** mean and std per input: one number, one per channel (the shape's second axis), or one per value */
export interface Normalization { mean: number[]; std: number[] }

function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0, mul = 1;
  for (let i = at; i < b.length && i < at + 10; i++) {
    v += (b[i] & 0x7f) * mul;
    mul *= 128;
    if (!(b[i] & 0x80)) return [v, i + 1];
  }
  return [-1, b.length];
}

/** The length-delimited fields of one protobuf message, by field number. */
function fields(b: Uint8Array, from: number, to: number, want: number, out: [number, Uint8Array][]): boolean {
  let at = from;
  while (at < to) {
    const [tag, next] = varint(b, at);
    if (tag < 0) return false;
    at = next;
    const field = Math.floor(tag / 8), wire = tag % 8;
    if (wire === 0) { const [v, n] = varint(b, at); if (v < 0) return false; at = n; } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const [len, n] = varint(b, at);
      if (len < 0 || n + len > to) return false;
      if (field === want || want < 0) out.push([field, b.subarray(n, n + len)]);
      at = n + len;
    } else return false;
  }
  return at === to;
}

/** ModelProto.metadata_props (field 14: key 1, value 2). */
export function onnxMetadata(model: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const props: [number, Uint8Array][] = [];
  if (!fields(model, 0, model.length, 14, props)) return out;
  for (const [, entry] of props) {
    const kv: [number, Uint8Array][] = [];
    if (!fields(entry, 0, entry.length, -1, kv)) continue;
    const text = (f: number) => Buffer.from(kv.find(([n]) => n === f)?.[1] ?? []).toString('utf8');
    out.set(text(1), text(2));
  }
  return out;
}

/** Throws "no such file", or "permission denied" saying why a capture cannot read it. */
export function checkReadable(file: string, what: string): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw new Error(`${what} ${file}: no such file`, { cause: e });
    const nobody = process.getuid?.() === 65534 ? ' (a capture loads the model once it has dropped its privileges, as nobody: the file and its folders must be readable by others)' : '';
    throw new Error(`${what} ${file}: permission denied${nobody}`, { cause: e });
  }
  if (fs.statSync(file).isDirectory()) throw new Error(`${what} ${file}: is a folder, not a file`);
}

function readTrusted(file: string, what: string): string {
  checkReadable(file, what);
  checkOwnerOnlyWritable(file, what);
  return fs.readFileSync(file, 'utf8');
}

/** Class names: a JSON array of strings, or one name a line. */
export function parseLabels(text: string, from: string): string[] {
  const t = text.trim();
  let labels: unknown;
  if (t.startsWith('[')) {
    try { labels = JSON.parse(t); } catch (e) { throw new Error(`${from}: not JSON: ${(e as Error).message}`, { cause: e }); }
  } else labels = t.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!Array.isArray(labels) || !labels.length || !labels.every((l) => typeof l === 'string')) {
    throw new Error(`${from}: class names must be a JSON array of strings or one name a line`);
  }
  return labels;
}

const numbers = (v: unknown): number[] | undefined => {
  const a = typeof v === 'number' ? [v] : v;
  return Array.isArray(a) && a.length && a.every((x) => typeof x === 'number' && Number.isFinite(x)) ? a : undefined;
};

/** {"input name": {"mean": x | [...], "std": x | [...]}, ...}; a std of 0 is refused. */
export function parseNormalization(text: string, from: string): Map<string, Normalization> {
  let j: unknown;
  try { j = JSON.parse(text); } catch (e) { throw new Error(`${from}: not JSON: ${(e as Error).message}`, { cause: e }); }
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error(`${from}: must be an object of {"mean": ..., "std": ...} by input name`);
  const out = new Map<string, Normalization>();
  for (const [name, v] of Object.entries(j as Record<string, unknown>)) {
    const o = (v ?? {}) as Record<string, unknown>;
    const mean = numbers(o.mean ?? 0), std = numbers(o.std ?? 1);
    if (!mean || !std) throw new Error(`${from}: input ${name}: mean and std must be numbers or arrays of numbers`);
    if (std.some((s) => s === 0)) throw new Error(`${from}: input ${name}: a std of 0 would divide by zero`);
    out.set(name, { mean, std });
  }
  return out;
}

export interface ModelExtras { labels?: string[]; normalization: Map<string, Normalization> }

/** Labels and normalisation for a model: the files given, else the model's metadata. */
export function modelExtras(modelBytes: Uint8Array, modelFile: string, labelsFile?: string, normFile?: string): ModelExtras {
  const meta = onnxMetadata(modelBytes);
  const labelsText = labelsFile ? readTrusted(labelsFile, 'labels file') : meta.get(LABELS_KEY);
  const normText = normFile ? readTrusted(normFile, 'normalization file') : meta.get(NORMALIZATION_KEY);
  return {
    labels: labelsText === undefined ? undefined : parseLabels(labelsText, labelsFile ?? `${modelFile} (metadata ${LABELS_KEY})`),
    normalization: normText === undefined ? new Map<string, Normalization>() : parseNormalization(normText, normFile ?? `${modelFile} (metadata ${NORMALIZATION_KEY})`),
  };
}
