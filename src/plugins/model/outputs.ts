/**
 * What the model's outputs mean: a class index (int64 [N], as scikit-learn models converted
 * with skl2onnx have) and class scores (float [N, C]: probabilities when the model ends in a
 * softmax). A model with scores only is predicted by their largest. Class names, when given,
 * must be one per class.
 */
import { ModelInput } from './bind';

export interface OutputPlan { label?: string; scores?: string; classes: number }

export function planOutputs(outputs: readonly ModelInput[], labels: string[] | undefined, model: string): OutputPlan {
  const label = outputs.find((o) => (o.type === 'int64' || o.type === 'int32') && (o.shape.length === 1 || (o.shape.length === 2 && o.shape[1] === 1)));
  const scores = outputs.find((o) => (o.type === 'float32' || o.type === 'float64') && o.shape.length === 2);
  if (!label && !scores) {
    throw new Error(`${model}: no output is a class index (int64 [N]) or class scores (float [N, C]); its outputs: ` +
      outputs.map((o) => `${o.name} ${o.type ?? '?'} [${o.shape.join(', ')}]`).join('; '));
  }
  const c = scores?.shape[1];
  const classes = typeof c === 'number' && c > 0 ? c : 0;
  if (scores && !classes && !label) throw new Error(`${model}: output "${scores.name}" has no fixed number of classes (its shape: [${scores.shape.join(', ')}])`);
  if (labels && classes && labels.length !== classes) {
    throw new Error(`${model} scores ${classes} classes, and ${labels.length} class names are given (${labels.slice(0, 5).join(', ')}${labels.length > 5 ? ', ...' : ''})`);
  }
  return { label: label?.name, scores: classes ? scores?.name : undefined, classes };
}
