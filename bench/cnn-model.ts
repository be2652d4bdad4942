/**
 * The example's 1D-CNN (examples/traffic-cnn/train.py) rebuilt as ONNX here, with reproducible
 * weights: same layers, same sizes, so the same parameters and multiply-adds, for a benchmark
 * that needs no Python. Input "bytes" float [N, 1, 784], output "probabilities" float [N, C].
 */
import { ELEM, int, ints, OnnxGraph } from '../scripts/onnx-graph';

export const L = 784;
/** [out channels, in channels, kernel, stride] of the two convolutions, each followed by ReLU and max-pool 2 */
const CONV = [[16, 1, 16, 4], [32, 16, 8, 2]] as const;
const HIDDEN = 128;

function weights(n: number, seed: number, scale: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 1073741824 - 1) * scale; });
}

export interface CnnFigures { parameters: number; multiplyAdds: number; model: Buffer }

export function cnnModel(classes: number): CnnFigures {
  const g = new OnnxGraph('traffic_cnn').input('bytes', ELEM.FLOAT, ['N', 1, L]);
  let len = L, x = 'bytes', parameters = 0, macs = 0;
  CONV.forEach(([out, inp, k, stride], i) => {
    g.init(`w${i}`, [out, inp, k], weights(out * inp * k, 11 + i, 1 / Math.sqrt(inp * k))).init(`b${i}`, [out], weights(out, 21 + i, 0.1));
    len = Math.floor((len - k) / stride) + 1;
    parameters += out * inp * k + out;
    macs += len * out * inp * k;
    g.node('Conv', [x, `w${i}`, `b${i}`], [`c${i}`], { kernel_shape: ints([k]), strides: ints([stride]) })
      .node('Relu', [`c${i}`], [`r${i}`])
      .node('MaxPool', [`r${i}`], [`p${i}`], { kernel_shape: ints([2]), strides: ints([2]) });
    len = Math.floor(len / 2);
    x = `p${i}`;
  });
  const flat = len * CONV[CONV.length - 1][0];
  g.node('Flatten', [x], ['flat'], { axis: int(1) })
    .init('w2', [flat, HIDDEN], weights(flat * HIDDEN, 31, 1 / Math.sqrt(flat))).init('b2', [HIDDEN], weights(HIDDEN, 32, 0.1))
    .node('Gemm', ['flat', 'w2', 'b2'], ['h']).node('Relu', ['h'], ['hr'])
    .init('w3', [HIDDEN, classes], weights(HIDDEN * classes, 41, 1 / Math.sqrt(HIDDEN))).init('b3', [classes], weights(classes, 42, 0.1))
    .node('Gemm', ['hr', 'w3', 'b3'], ['logits'])
    .node('Softmax', ['logits'], ['probabilities'], { axis: int(1) })
    .output('probabilities', ELEM.FLOAT, ['N', classes]);
  parameters += flat * HIDDEN + HIDDEN + HIDDEN * classes + classes;
  macs += flat * HIDDEN + HIDDEN * classes;
  return { parameters, multiplyAdds: macs, model: g.toBytes() };
}
