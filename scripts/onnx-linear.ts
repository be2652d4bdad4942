/**
 * Writes a linear classifier as an ONNX model (protobuf, opset 13): features (float [N, k]) →
 * Gemm with W [k, C] and B [C] → Softmax → "probabilities" (float [N, C]), ArgMax → "label"
 * (int64 [N]) — the outputs scikit-learn's classifiers have once converted with skl2onnx
 * (zipmap off). The model plugin's test builds its model with this; `node dist/scripts/onnx-linear.js
 * OUT.onnx k C w... b...` writes one by hand.
 */
import * as fs from 'node:fs';

class Proto {
  private parts: Buffer[] = [];
  private tag(field: number, wire: number): void { this.varint(field * 8 + wire); }
  private varint(n: number | bigint): void {
    let v = BigInt(n);
    const out: number[] = [];
    do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
    this.parts.push(Buffer.from(out));
  }
  int(field: number, v: number): this { this.tag(field, 0); this.varint(v); return this; }
  bytes(field: number, b: Buffer): this { this.tag(field, 2); this.varint(b.length); this.parts.push(b); return this; }
  str(field: number, s: string): this { return this.bytes(field, Buffer.from(s, 'utf8')); }
  msg(field: number, m: Proto): this { return this.bytes(field, m.done()); }
  done(): Buffer { return Buffer.concat(this.parts); }
}

const FLOAT = 1, INT64 = 7;

function valueInfo(name: string, elem: number, dims: (number | string)[]): Proto {
  const shape = new Proto();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Proto().int(1, d) : new Proto().str(2, d));
  return new Proto().str(1, name).msg(2, new Proto().msg(1, new Proto().int(1, elem).msg(2, shape)));
}

function tensor(name: string, dims: number[], values: number[]): Proto {
  const t = new Proto();
  for (const d of dims) t.int(1, d);
  const raw = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => raw.writeFloatLE(v, 4 * i));
  return t.int(2, FLOAT).str(8, name).bytes(9, raw);
}

function node(op: string, inputs: string[], outputs: string[], attrs: Proto[] = []): Proto {
  const n = new Proto();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  n.str(3, `${op.toLowerCase()}_0`).str(4, op);
  for (const a of attrs) n.msg(5, a);
  return n;
}

const intAttr = (name: string, v: number) => new Proto().str(1, name).int(3, v).int(20, 2);

/** w: k rows of C weights (row-major), b: C biases. */
export function linearClassifier(k: number, c: number, w: number[], b: number[]): Buffer {
  if (w.length !== k * c || b.length !== c) throw new Error(`need ${k * c} weights and ${c} biases`);
  const graph = new Proto()
    .msg(1, node('Gemm', ['features', 'W', 'B'], ['logits']))
    .msg(1, node('Softmax', ['logits'], ['probabilities'], [intAttr('axis', 1)]))
    .msg(1, node('ArgMax', ['logits'], ['label'], [intAttr('axis', 1), intAttr('keepdims', 0)]))
    .str(2, 'flowseek_linear')
    .msg(5, tensor('W', [k, c], w))
    .msg(5, tensor('B', [c], b))
    .msg(11, valueInfo('features', FLOAT, ['N', k]))
    .msg(12, valueInfo('label', INT64, ['N']))
    .msg(12, valueInfo('probabilities', FLOAT, ['N', c]));
  return new Proto().int(1, 7).str(2, 'flowseek').msg(7, graph).msg(8, new Proto().str(1, '').int(2, 13)).done();
}

if (require.main === module) {
  const [out, k, c, ...rest] = process.argv.slice(2);
  const nums = rest.map(Number);
  if (!out || !k || !c) {
    process.stderr.write('usage: onnx-linear OUT.onnx K C W(K*C, row-major)... B(C)...\n');
    process.exit(2);
  }
  const kk = Number(k), cc = Number(c);
  fs.writeFileSync(out, linearClassifier(kk, cc, nums.slice(0, kk * cc), nums.slice(kk * cc)));
}
