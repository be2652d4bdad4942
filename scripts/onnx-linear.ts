/**
 * Writes a linear classifier as an ONNX model (protobuf, opset 13): features (float [N, k]) →
 * Gemm with W [k, C] and B [C] → Softmax → "probabilities" (float [N, C]), ArgMax → "label"
 * (int64 [N]) — the outputs scikit-learn's classifiers have once converted with skl2onnx
 * (zipmap off). The model plugin's test builds its model with this; `node dist/scripts/onnx-linear.js
 * OUT.onnx k C w... b...` writes one by hand.
 */
import * as fs from 'node:fs';
import { ELEM, int, OnnxGraph } from './onnx-graph';

/** w: k rows of C weights (row-major), b: C biases. */
export function linearClassifier(k: number, c: number, w: number[], b: number[]): Buffer {
  if (w.length !== k * c || b.length !== c) throw new Error(`need ${k * c} weights and ${c} biases`);
  return new OnnxGraph('flowseek_linear')
    .input('features', ELEM.FLOAT, ['N', k])
    .init('W', [k, c], w)
    .init('B', [c], b)
    .node('Gemm', ['features', 'W', 'B'], ['logits'])
    .node('Softmax', ['logits'], ['probabilities'], { axis: int(1) })
    .node('ArgMax', ['logits'], ['label'], { axis: int(1), keepdims: int(0) })
    .output('label', ELEM.INT64, ['N'])
    .output('probabilities', ELEM.FLOAT, ['N', c])
    .toBytes();
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
