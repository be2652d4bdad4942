/**
 * The model plugin on the benchmark capture: the example's 1D-CNN over 784 payload bytes
 * (bench/cnn-model.ts, or a trained one given with --model), each run a fresh process on CPU 0
 * alone, median of `repeats`:
 *   - flowseek --payload-bytes 784 to Parquet, no model: the base;
 *   - the same with --plugin model: flows classified per second, time relative to the base;
 *   - onnxruntime alone on the same model, batch size and thread count (bench/ort-loop.ts).
 * The plugin's own cost is its added time beyond what the bare loop needs for as many flows.
 * Times are CPU seconds (user + system) as well as wall: on a shared machine wall time is mostly
 * waiting, and the goals are per core; the ratios use CPU seconds.
 * Usage: npm run build && node dist/bench/model.js [repeats [packets]] [--model FILE.onnx]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cnnModel } from './cnn-model';

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, 'bench', 'cache');
const PCAPS = path.resolve(ROOT, '..', 'shared', 'oracle', 'nfstream', 'pcaps');
const BIN = path.join(ROOT, 'bin', 'flowseek');
const ONE_CORE = ['taskset', '-c', '0'];
/** Parquet: the columns as they are, no number formatting to weigh on the model's extra columns */
const OUT = path.join(CACHE, 'model-flows.parquet');

function capture(packets: number): string {
  const tool = path.join(CACHE, 'bin', 'make-capture');
  fs.mkdirSync(path.dirname(tool), { recursive: true });
  const src = path.join(ROOT, 'bench', 'make-capture.c');
  if (!fs.existsSync(tool) || fs.statSync(tool).mtimeMs < fs.statSync(src).mtimeMs) execFileSync('cc', ['-O2', '-Wall', '-o', tool, src, '-lpcap']);
  const file = path.join(CACHE, `bench-${packets}.pcap`);
  if (!fs.existsSync(file)) {
    const inputs = fs.readdirSync(PCAPS).sort().map((f) => path.join(PCAPS, f));
    execFileSync(tool, [file, String(packets), ...inputs], { stdio: 'inherit' });
  }
  return file;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall and CPU seconds of a fresh process (stdout discarded), medians of repeats; its stderr, last run. */
function timed(cmd: string[], repeats: number): { wall: number; cpu: number; stderr: string } {
  const walls: number[] = [], cpus: number[] = [];
  let stderr = '';
  const timing = path.join(CACHE, 'model-time.txt');
  for (let i = 0; i < repeats; i++) {
    fs.rmSync(OUT, { force: true });
    const r = spawnSync('/usr/bin/time', ['-o', timing, '-f', '%e %U %S', ...cmd], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.status}: ${r.stderr.slice(-500)}`);
    const [wall, user, sys] = fs.readFileSync(timing, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    walls.push(wall);
    cpus.push(user + sys);
    stderr = r.stderr;
  }
  return { wall: median(walls), cpu: median(cpus), stderr };
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--model');
  const given = at >= 0 ? args.splice(at, 2)[1] : undefined;
  const repeats = Number(args[0] ?? 3), packets = Number(args[1] ?? 2_000_000);
  const file = capture(packets);
  const figures = cnnModel(5);
  const model = given ?? path.join(CACHE, 'cnn-784.onnx');
  if (!given) fs.writeFileSync(model, figures.model, { mode: 0o644 });
  const read = [...ONE_CORE, process.execPath, BIN, 'read', file, '--dissections', '0', '--payload-bytes', '784', '-o', OUT];
  const plugin = ['--plugin', 'model', '--model', model, '--features', 'payload_bytes'];

  // the two runs alternate, so that a change in the machine's load weighs on both alike
  const pairs = Array.from({ length: repeats }, () => [timed(read, 1), timed([...read, ...plugin], 1)]);
  const pick = (k: number) => ({ wall: median(pairs.map((p) => p[k].wall)), cpu: median(pairs.map((p) => p[k].cpu)), stderr: pairs[0][k].stderr });
  const base = pick(0), withModel = pick(1);
  const flows = Number(/(\d+) flows from/.exec(base.stderr)?.[1]);
  const sizes = timed([...read, '--plugin', path.join(ROOT, 'bench', 'batch-sizes-plugin.js')], 1).stderr;
  const [, batches, batchFlows] = (/batches (\d+) flows (\d+)/.exec(sizes) ?? []).map(Number);
  const batch = Math.max(1, Math.round(batchFlows / batches));
  // onnxruntime alone at the batch size the plugin is handed, and at the slice it runs (batch=, 256)
  const loop = (size: number) => {
    const runs = Array.from({ length: repeats }, () =>
      execFileSync(ONE_CORE[0], [...ONE_CORE.slice(1), process.execPath, path.join(__dirname, 'ort-loop.js'), model, String(size), String(flows)], { encoding: 'utf8' })
        .trim().split(' ').map(Number));
    return { cpu: median(runs.map((l) => l[0])), wall: median(runs.map((l) => l[1])), size };
  };
  const loops = [loop(batch), loop(256)];
  const best = loops.reduce((a, b) => (b.cpu > a.cpu ? b : a));
  const bare = best.cpu;

  const added = withModel.cpu - base.cpu;
  const bareSeconds = flows / bare;
  const rate = (n: number) => Math.round(n).toLocaleString('en');
  const lines = [
    `model: ${given ? given : 'the example\'s 1D-CNN (bench/cnn-model.ts)'}: ${figures.parameters.toLocaleString('en')} parameters, ` +
      `${figures.multiplyAdds.toLocaleString('en')} multiply-adds a flow (784 payload bytes in, ${5} classes)`,
    `capture: ${packets.toLocaleString('en')} packets, ${flows.toLocaleString('en')} flows; ${batches} batches of ${batch} flows on average; ` +
      `CPU 0 alone, median of ${repeats}; ${os.cpus()[0].model}; load average ${os.loadavg()[0].toFixed(1)} at the end`,
    '',
    '| run | wall s | CPU s | flows per CPU second |',
    '|---|---|---|---|',
    `| flowseek --payload-bytes 784 --dissections 0 -o flows.parquet (no model) | ${base.wall.toFixed(2)} | ${base.cpu.toFixed(2)} | ${rate(flows / base.cpu)} |`,
    `| the same with --plugin model (flows classified) | ${withModel.wall.toFixed(2)} | ${withModel.cpu.toFixed(2)} | ${rate(flows / withModel.cpu)} |`,
    ...loops.map((l) => `| onnxruntime alone, batches of ${l.size}, 1 thread | ${(flows / l.wall).toFixed(2)} | ${(flows / l.cpu).toFixed(2)} | ${rate(l.cpu)} |`),
    '',
    `time relative to no model: ${(withModel.cpu / base.cpu).toFixed(2)}x; the plugin adds ${added.toFixed(2)} CPU s, ` +
      `${(added / bareSeconds).toFixed(2)}x what onnxruntime alone needs for ${flows.toLocaleString('en')} flows at its best (batches of ${best.size}; goal <= 1.5x); ` +
      `${rate(flows / withModel.cpu)} flows classified per CPU second, reading and writing included (goal >= 5,000)`,
  ];
  fs.rmSync(OUT, { force: true });
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
