/**
 * onnxruntime alone: the model run on batches of `batch` flows of random bytes, one thread, the
 * session options the model plugin uses — the ceiling the plugin is measured against.
 * Usage: node dist/bench/ort-loop.js MODEL.onnx BATCH FLOWS  → prints flows per CPU second, per wall second
 */
import * as ort from 'onnxruntime-node';

async function main(): Promise<void> {
  const [file, b, n] = process.argv.slice(2);
  const batch = Number(b), flows = Number(n);
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const meta = session.inputMetadata[0] as { name: string; shape: readonly (number | string)[] };
  const row = meta.shape.slice(1).reduce((a: number, d) => a * Number(d), 1);
  const x = new Float32Array(batch * row);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) >>> 24) / 255;
  const feed = { [meta.name]: new ort.Tensor('float32', x, [batch, ...meta.shape.slice(1).map(Number)]) };
  await session.run(feed); // warm-up
  const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  let done = 0;
  while (done < flows) { await session.run(feed); done += batch; }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0), cpu = (c.user + c.system) / 1e6;
  process.stdout.write(`${Math.round(done / cpu)} ${Math.round(done / wall)}\n`);
}

void main();
