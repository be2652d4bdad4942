/**
 * The model plugin on models this test writes itself (scripts/onnx-graph.ts): a Conv1D over
 * payload_bytes and a classifier over SPLT whose predictions must equal the same arithmetic done
 * here; models that hand back the tensor the plugin built (payload, headers, SPLT: three named
 * inputs) to compare it with the meter's own columns on real captures, at the flow's end and
 * gathered packet by packet; early prediction at packet N, with its JSON line in --predictions;
 * class names; each input mismatch with its message; a live capture predicting a flow still open.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ELEM, int, ints, OnnxGraph } from '../scripts/onnx-graph';
import { DLT, ipv4, tcp, udp, writePcap } from './helpers/packets';
import { deleteNamespaces, vethPair } from './helpers/netns';
import { BIN, binForOthers, cli, Flow, NO_ORACLE, ORACLE } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');
// readable by others: a capture's workers load the model as nobody
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-model-'));
fs.chmodSync(dir, 0o755);
const save = (name: string, bytes: Buffer | string) => { const f = path.join(dir, name); fs.writeFileSync(f, bytes, { mode: 0o644 }); return f; };
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

function jsonl(args: string[]): Flow[] {
  const r = cli(['-q', 'read', ...args, '--jsonl']);
  if (r.status !== 0) throw new Error(`flowseek ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Reproducible weights in [-1, 1). */
function weights(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 1073741824 - 1; });
}
const fromHex = (h: string) => [...Buffer.from(h, 'hex')];
const softmax = (z: number[]) => { const m = Math.max(...z); const e = z.map((v) => Math.exp(v - m)); const s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); };
const probs = (f: Flow, c: number) => Array.from({ length: c }, (_, j) => f[`udps_model_probability_${j}`] as number);
const argmax = (v: number[]) => v.indexOf(Math.max(...v));
/** the two best scores far enough apart that float32 cannot swap them */
const clear = (p: number[]) => { const s = [...p].sort((a, b) => b - a); return s[0] - s[1] > 1e-4; };

// A 1D-CNN over L payload bytes as floats 0..1: Conv(F filters, width K, stride 2) → ReLU → Flatten → Gemm → Softmax
const L = 16, F = 2, K = 3, C = 3, LO = Math.floor((L - K) / 2) + 1;
const CW = weights(F * K, 1), CB = weights(F, 2), GW = weights(F * LO * C, 3), GB = weights(C, 4);
const LABELS = ['chat', 'web', 'bulk'];
const NORM = { mean: 0.2, std: 0.5 };
function cnnModel(): Buffer {
  return new OnnxGraph('cnn')
    .input('bytes', ELEM.FLOAT, ['N', 1, L])
    .init('CW', [F, 1, K], CW).init('CB', [F], CB).init('GW', [F * LO, C], GW).init('GB', [C], GB)
    .node('Conv', ['bytes', 'CW', 'CB'], ['conv'], { strides: ints([2]), kernel_shape: ints([K]) })
    .node('Relu', ['conv'], ['relu'])
    .node('Flatten', ['relu'], ['flat'], { axis: int(1) })
    .node('Gemm', ['flat', 'GW', 'GB'], ['logits'])
    .node('Softmax', ['logits'], ['probabilities'], { axis: int(1) })
    .output('probabilities', ELEM.FLOAT, ['N', C])
    .metadata('flowseek.labels', JSON.stringify(LABELS))
    .metadata('flowseek.normalization', JSON.stringify({ bytes: NORM }))
    .toBytes();
}
function cnnHere(bytes: number[]): number[] {
  const x = bytes.slice(0, L).map((b) => (b / 255 - NORM.mean) / NORM.std);
  const flat: number[] = [];
  for (let f = 0; f < F; f++) {
    for (let o = 0; o < LO; o++) {
      let v = CB[f];
      for (let k = 0; k < K; k++) v += CW[f * K + k] * x[2 * o + k];
      flat.push(Math.max(0, v));
    }
  }
  return softmax(Array.from({ length: C }, (_, c) => GB[c] + flat.reduce((a, v, i) => a + v * GW[i * C + c], 0)));
}

// Hands back what it was given: payload (uint8 [N, PL]), headers (uint8 [N, P, W]), SPLT (float [N, 3, S]), concatenated
const PL = 64, P = 3, W = 48, S = 6;
function echoModel(): Buffer {
  return new OnnxGraph('echo')
    .input('payload', ELEM.UINT8, ['N', PL])
    .input('headers', ELEM.UINT8, ['N', P, W])
    .input('splt', ELEM.FLOAT, ['N', 3, S])
    .node('Cast', ['payload'], ['pf'], { to: int(ELEM.FLOAT) })
    .node('Cast', ['headers'], ['hf'], { to: int(ELEM.FLOAT) })
    .node('Flatten', ['hf'], ['hflat'], { axis: int(1) })
    .node('Flatten', ['splt'], ['sflat'], { axis: int(1) })
    .node('Concat', ['pf', 'hflat', 'sflat'], ['scores'], { axis: int(1) })
    .output('scores', ELEM.FLOAT, ['N', PL + P * W + 3 * S])
    .toBytes();
}
const ECHO_FEATURES = 'splt=splt;payload=payload_bytes;headers=header_bytes';
/** What the echo model should give back for a flow, from the meter's columns. */
function echoed(f: Flow): number[] {
  const headers = (f.header_bytes as string[]).slice(0, P).flatMap((h) => fromHex(h).slice(0, W));
  const splt = ['splt_direction', 'splt_ps', 'splt_piat_ms'].flatMap((c) => (f[c] as number[]).slice(0, S));
  return [...fromHex(f.payload_bytes as string).slice(0, PL), ...headers, ...splt];
}

const cnn = save('cnn.onnx', cnnModel());
const echo = save('echo.onnx', echoModel());
const FILES = ['ftp.pcap', 'http_ipv6.pcap', 'dhcp.pcap', 'dns_doh.pcap', '6in6tunnel.pcap', 'gtp-u.pcap', 'teredo.pcap'].map((f) => path.join(PCAPS, f));
const SIZES = ['--payload-bytes', String(PL), '--header-bytes', String(P), '--header-width', String(W), '--splt', String(S)];

t.test('a Conv1D over payload_bytes: probabilities and class names as computed here, normalised as its metadata says', { skip: NO_ORACLE }, async (t) => {
  const out = jsonl([...FILES, '--payload-bytes', String(L), '--dissections', '0', '--plugin', 'model', '--model', cnn, '--features', 'payload_bytes', '--plugin-option', 'batch=7']);
  let same = 0, decided = 0;
  const seen = new Set<number>();
  for (const f of out) {
    const want = cnnHere(fromHex(f.payload_bytes as string));
    const got = probs(f, C);
    if (got.every((g, c) => Math.abs(g - want[c]) < 1e-5)) same++;
    if (clear(want)) {
      decided++;
      t.equal(f.udps_model_prediction, argmax(want), `${f.src_ip}:${f.src_port}: class ${argmax(want)}`);
      t.equal(f.udps_model_label, LABELS[argmax(want)], `${f.src_ip}:${f.src_port}: named ${LABELS[argmax(want)]}`);
      seen.add(argmax(want));
    }
    t.equal(f.udps_model_packets, f.bidirectional_packets, 'predicted at its end');
  }
  t.equal(same, out.length, `${out.length} flows: probabilities within 1e-5 of float64 arithmetic`);
  t.ok(decided > out.length / 2 && seen.size >= 2, `${decided} flows with a clear class, ${seen.size} classes among them`);
});

t.test('an SPLT classifier: per-channel normalisation and class names from files, predictions as computed here', { skip: NO_ORACLE }, async (t) => {
  const SW = weights(3 * S * 2, 7), SB = [0.1, -0.1];
  const model = save('splt.onnx', new OnnxGraph('splt')
    .input('seq', ELEM.FLOAT, ['batch', 3, S]).init('SW', [3 * S, 2], SW).init('SB', [2], SB)
    .node('Flatten', ['seq'], ['flat'], { axis: int(1) })
    .node('Gemm', ['flat', 'SW', 'SB'], ['logits'])
    .node('Softmax', ['logits'], ['p'], { axis: int(1) })
    .node('ArgMax', ['logits'], ['label'], { axis: int(1), keepdims: int(0) })
    .output('label', ELEM.INT64, ['batch']).output('p', ELEM.FLOAT, ['batch', 2]).toBytes());
  const mean = [0.5, 300, 40], std = [0.5, 400, 200];
  const norm = save('splt-norm.json', JSON.stringify({ seq: { mean, std } }));
  const labels = save('splt-labels.txt', 'quiet\nbusy\n');
  const out = jsonl([...FILES, '--splt', String(S), '--dissections', '0', '--plugin', 'model', '--model', model, '--features', 'splt',
    '--plugin-option', `normalization=${norm}`, '--plugin-option', `labels=${labels}`]);
  let same = 0;
  for (const f of out) {
    const x = ['splt_direction', 'splt_ps', 'splt_piat_ms'].flatMap((c, ch) => (f[c] as number[]).map((v) => (v - mean[ch]) / std[ch]));
    const want = softmax([0, 1].map((c) => SB[c] + x.reduce((a, v, i) => a + v * SW[i * 2 + c], 0)));
    if (probs(f, 2).every((g, c) => Math.abs(g - want[c]) < 1e-5)) same++;
    if (clear(want)) t.equal(f.udps_model_label, ['quiet', 'busy'][argmax(want)], `${f.src_ip}:${f.src_port}: ${['quiet', 'busy'][argmax(want)]}`);
  }
  t.equal(same, out.length, `${out.length} flows: probabilities as computed here`);
});

t.test('payload, headers and SPLT as the plugin builds them equal the meter\'s columns: at the end, and gathered packet by packet', { skip: NO_ORACLE }, async (t) => {
  // the model run 5 and 3 flows at a time: slices of the batch's one array each
  for (const extra of [['--plugin-option', 'batch=5'], ['--predict-at', '100000', '--plugin-option', 'batch=3']]) {
    const how = extra.length > 2 ? 'gathered from the packets' : 'from the columns';
    const out = jsonl([...FILES, ...SIZES, '--dissections', '0', '--plugin', 'model', '--model', echo, '--features', ECHO_FEATURES, ...extra]);
    const n = PL + P * W + 3 * S;
    const wrong = out.filter((f) => JSON.stringify(probs(f, n)) !== JSON.stringify(echoed(f)));
    t.same(wrong.map((f) => `${f.src_ip}:${f.src_port}-${f.dst_ip}:${f.dst_port}`), [], `${how}: all ${out.length} flows equal (the first wrong shown)`);
    if (wrong.length) t.same(probs(wrong[0], n), echoed(wrong[0]));
    t.ok(out.some((f) => f.tunnel_id !== 0) && out.some((f) => f.ip_version === 6), `${how}: tunnelled and IPv6 flows among them`);
  }
});

t.test('--predict-at 2: the inputs as they stood at the second packet, written at once to --predictions', async (t) => {
  const A = '10.0.0.1', B = '10.0.0.2';
  const file = writePcap('early.pcap', DLT.RAW, [
    { t: 1, frame: ipv4(A, B, 17, udp(4000, 53, Buffer.alloc(5, 0x11))) },
    { t: 1.25, frame: ipv4(B, A, 17, udp(53, 4000, Buffer.alloc(7, 0x22))) },
    { t: 1.5, frame: ipv4(A, B, 17, udp(4000, 53, Buffer.alloc(100, 0x33))) },
    { t: 2, frame: ipv4(A, B, 6, tcp(5000, 80)) },
  ]);
  const predictions = path.join(dir, 'early.jsonl');
  const out = jsonl([file, ...SIZES, '--plugin', 'model', '--model', echo, '--features', ECHO_FEATURES, '--predict-at', '2', '--predictions', predictions]);
  const n = PL + P * W + 3 * S;
  const u = out.find((f) => f.protocol === 17) as Flow;
  t.equal(u.bidirectional_packets, 3);
  t.equal(u.udps_model_packets, 2, 'predicted at its 2nd packet');
  const got = probs(u, n);
  t.same(got.slice(0, PL), [...Array(5).fill(0x11), ...Array(7).fill(0x22), ...Array(PL - 12).fill(0)], 'payload: the first two packets\' bytes, then zeros');
  const splt = got.slice(PL + P * W);
  t.same(splt, [0, 1, -1, -1, -1, -1, 33, 35, -1, -1, -1, -1, 0, 250, -1, -1, -1, -1], 'SPLT: two packets (sizes by IP length), the rest -1');
  t.same(got.slice(PL + 2 * W, PL + 3 * W), Array(W).fill(0), 'headers: no third row yet');
  const whole = echoed(u);
  t.not(JSON.stringify(whole), JSON.stringify(got), '(the whole flow gives other inputs)');
  const lines = fs.readFileSync(predictions, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const early = lines.find((l) => l.protocol === 17);
  t.match(early, { src_ip: A, src_port: 4000, dst_ip: B, dst_port: 53, protocol: 17, vlan_id: 0, tunnel_id: 0, early: true, packets: 2,
    bidirectional_first_seen_ms: u.bidirectional_first_seen_ms }, 'its JSON line: the flow\'s key, early, at packet 2');
  t.same(early.probabilities, got, 'and the same scores');
  const short = lines.find((l) => l.protocol === 6);
  t.match(short, { early: false, packets: 1, src_port: 5000 }, 'a one-packet flow is predicted at its end');
  const again = cli(['read', file, ...SIZES, '--plugin', 'model', '--model', echo, '--features', ECHO_FEATURES, '--predictions', predictions, '--csv']);
  t.equal(again.status, 1);
  t.match(again.stderr, /cannot write the predictions to .*early\.jsonl: the file exists \(not overwritten\)/, 'an existing predictions file is not overwritten');
});

// One write(2) of the predictions' lines took what a file size limit let through and the rest was
// lost, the run ending 0 as if they were all there.
t.test('--predictions past a file size limit: exit 1 and one line that names it, not a silent short file', async (t) => {
  const file = writePcap('limited.pcap', DLT.RAW, Array.from({ length: 40 }, (_, i) => ({ t: 1 + i, frame: ipv4('10.0.0.1', `10.0.1.${i}`, 6, tcp(5000, 80)) })));
  const predictions = path.join(dir, 'limited.jsonl');
  const r = spawnSync('bash', ['-c', 'ulimit -f 4; exec env -u NODE_OPTIONS "$0" "$@"', process.execPath, BIN, 'read', file, ...SIZES, '--plugin', 'model',
    '--model', echo, '--features', ECHO_FEATURES, '--predictions', predictions, '--csv', '-o', '/dev/null'], { encoding: 'utf8' });
  t.equal(r.status, 1, 'exit 1');
  // the flows were all written (the summary says so), then the predictions' failure
  t.match(r.stderr, /^flowseek: 40 flows from 40 packets [^\n]*\n/);
  t.ok(r.stderr.endsWith(`flowseek: error: cannot write the predictions to ${predictions}: the file size limit of this process is reached (ulimit -f, LimitFSIZE)\n`));
  t.equal(r.stderr.split('\n').length, 3, 'two lines');
  const whole = spawnSync(process.execPath, [BIN, 'read', file, ...SIZES, '--plugin', 'model', '--model', echo, '--features', ECHO_FEATURES,
    '--predictions', path.join(dir, 'unlimited.jsonl'), '--csv', '-o', '/dev/null', '-q'], { encoding: 'utf8' });
  t.equal(whole.status, 0);
  t.ok(fs.statSync(path.join(dir, 'unlimited.jsonl')).size > 4096, 'more than the limit to write');
});

// The model fails on some flows only: a table of two rows indexed by the flow's packets (1 is in
// range, 2 and more are not, and onnxruntime refuses the run)
t.test('a model that fails on some flows: those go without a prediction, the failure counted (or fatal with --plugin-errors fail)', async (t) => {
  const picky = save('picky.onnx', new OnnxGraph('picky')
    .input('x', ELEM.FLOAT, ['N', 1])
    .init('table', [2, 2], [0.9, 0.1, 0.2, 0.8])
    .node('Cast', ['x'], ['idx'], { to: int(ELEM.INT64) })
    .node('Gather', ['table', 'idx'], ['g'], { axis: int(0) })
    .node('Flatten', ['g'], ['probabilities'], { axis: int(1) })
    .output('probabilities', ELEM.FLOAT, ['N', 2])
    .toBytes());
  const A = '10.0.0.1';
  // six one-packet flows, then one of three packets, then six more of one
  const records = [
    ...Array.from({ length: 6 }, (_, i) => ({ t: 1 + i * 0.01, frame: ipv4(A, `10.0.1.${i}`, 17, udp(4000, 53)) })),
    ...[0, 1, 2].map((i) => ({ t: 2 + i * 0.01, frame: ipv4(A, '10.0.2.1', 17, udp(4001, 53)) })),
    ...Array.from({ length: 6 }, (_, i) => ({ t: 3 + i * 0.01, frame: ipv4(A, `10.0.3.${i}`, 17, udp(4002, 53)) })),
  ];
  const file = writePcap('picky.pcap', DLT.RAW, records);
  const predictions = path.join(dir, 'picky.jsonl');
  const args = ['read', file, '--plugin', 'model', '--model', picky, '--features', 'bidirectional_packets', '--plugin-option', 'batch=1', '--jsonl'];
  const r = cli([...args, '--predictions', predictions]);
  t.equal(r.status, 0, 'counted (the default): the run goes on');
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Flow);
  t.equal(rows.length, 13, 'every flow written (the failed batch and the flows after it were lost)');
  const three = rows.find((f) => f.bidirectional_packets === 3) as Flow;
  t.equal(three.udps_model_prediction, null, 'the flow the model failed on: no prediction');
  t.ok(rows.filter((f) => f.bidirectional_packets === 1).every((f) => f.udps_model_prediction === 1), 'the others predicted');
  t.equal(fs.readFileSync(predictions, 'utf8').trim().split('\n').length, 12, 'a predictions line for each flow predicted, none for the other');
  const lines = r.stderr.trim().split('\n');
  t.match(lines, [/^flowseek: warning: plugin model: onBatch threw 1 time; the first: the model failed on 1 flows: /], 'one warning line of flowseek\'s, no line of onnxruntime\'s');
  const fail = cli([...args, '--plugin-errors', 'fail']);
  t.equal(fail.status, 1, '--plugin-errors fail: the run fails');
  t.match(fail.stderr, /^flowseek: error: plugin model: onBatch threw: the model failed on 1 flows: /m);
  t.notMatch(fail.stderr, /onnxruntime/i, 'onnxruntime says nothing itself');
  // --predictions naming -o's file: the flows, published last, replaced the predictions
  const same = path.join(dir, 'same.csv');
  const both = cli(['read', file, '--plugin', 'model', '--model', picky, '--features', 'bidirectional_packets', '-o', same, '--predictions', same]);
  t.equal(both.status, 2);
  t.match(both.stderr, /^flowseek: error: "--predictions" and "-o" name the same file \(.*same\.csv\): give the predictions a file of their own\n$/);
  t.notOk(fs.existsSync(same), 'nothing written');
});

t.test('each mismatch between the columns and the model says what', { skip: NO_ORACLE }, async (t) => {
  const one = (name: string, elem: number, dims: (number | string)[]) => save(name, new OnnxGraph('m').input('x', elem, dims)
    .node('Cast', ['x'], ['f'], { to: int(ELEM.FLOAT) }).node('Flatten', ['f'], ['scores'], { axis: int(1) })
    .output('scores', ELEM.FLOAT, ['N', 'K']).toBytes());
  const noScores = save('noscores.onnx', new OnnxGraph('m').input('x', ELEM.FLOAT, ['N', 2]).node('Identity', ['x'], ['y'])
    .output('y', ELEM.FLOAT, ['N', 2, 1]).toBytes());
  const loose = save('loose.txt', 'a\nb\n');
  fs.chmodSync(loose, 0o666);
  const ftp = path.join(PCAPS, 'ftp.pcap');
  // [what, args, message, exit code (1: the model refuses, once started; 2: the options, before)]
  const cases: [string, string[], RegExp, number?][] = [
    ['payload as [N, 2, L]', ['--payload-bytes', '8', '--model', one('p3.onnx', ELEM.FLOAT, ['N', 2, 8]), '--features', 'payload_bytes'],
      /input "x" of .*p3\.onnx is float32 \[N, 2, 8\]; payload_bytes needs \[N, L\] or \[N, 1, L\]/],
    ['payload as int64', ['--payload-bytes', '8', '--model', one('pi.onnx', ELEM.INT64, ['N', 8]), '--features', 'payload_bytes'],
      /is int64 \[N, 8\]; payload_bytes goes in as uint8, or as float scaled to 0\.\.1/],
    ['a length left open', ['--payload-bytes', '8', '--model', one('ps.onnx', ELEM.UINT8, ['N', 'L']), '--features', 'payload_bytes'],
      /axis 1 has no fixed size/],
    ['a fixed batch', ['--payload-bytes', '8', '--model', one('pb.onnx', ELEM.UINT8, [1, 8]), '--features', 'payload_bytes'],
      /has a fixed batch size of 1: export it with a dynamic first axis/],
    ['fewer bytes kept than the model takes', ['--payload-bytes', '4', '--model', one('p8.onnx', ELEM.UINT8, ['N', 8]), '--features', 'payload_bytes'],
      /the model takes 8 payload bytes \(input "x"\); this run keeps 4: run with --payload-bytes 8/],
    ['payload_bytes off', ['--model', one('p8b.onnx', ELEM.UINT8, ['N', 8]), '--features', 'payload_bytes'],
      /"--features": payload_bytes is not a column of this run \(it comes with --payload-bytes N\)/, 2],
    ['headers as [N, W]', ['--header-bytes', '2', '--model', one('h2.onnx', ELEM.UINT8, ['N', 8]), '--features', 'header_bytes'],
      /header_bytes needs \[N, P, W\] or \[N, 1, P, W\]/],
    ['fewer header packets kept', ['--header-bytes', '2', '--header-width', '24', '--model', one('h3.onnx', ELEM.UINT8, ['N', 3, 24]), '--features', 'header_bytes'],
      /the model takes the headers of 3 packets, 24 bytes each \(input "x"\); this run keeps 2 of 24: run with --header-bytes 3 --header-width 24/],
    ['SPLT channels', ['--splt', '4', '--model', one('s3.onnx', ELEM.FLOAT, ['N', 3, 4]), '--features', 'splt_ps'],
      /is float32 \[N, 3, 4\]; splt_ps needs \[N, 1, S\] or \[N, S\] \(1 channel of S packets\)/],
    ['SPLT as uint8', ['--splt', '4', '--model', one('s8.onnx', ELEM.UINT8, ['N', 3, 4]), '--features', 'splt'],
      /splt_direction, splt_ps, splt_piat_ms goes in as float32, float64, int32 or int64 \(it holds -1\)/],
    ['fewer SPLT packets kept', ['--splt', '2', '--model', one('s4.onnx', ELEM.FLOAT, ['N', 3, 4]), '--features', 'splt'],
      /the model takes the SPLT of 4 packets \(input "x"\); this run keeps 2: run with --splt 4/],
    ['scalars and bytes in one input', ['--model', one('mix.onnx', ELEM.FLOAT, ['N', 2]), '--features', 'payload_bytes,bidirectional_packets'],
      /"--features": ".*": payload_bytes makes an input of its own; give bidirectional_packets as another input/, 2],
    ['an input the model lacks', ['--payload-bytes', String(PL), '--model', echo, '--features', 'bytes=payload_bytes'], /echo\.onnx has no input "bytes" \(its inputs: payload, headers, splt\)/],
    ['an input left without columns', ['--payload-bytes', String(PL), '--model', echo, '--features', 'payload=payload_bytes'], /input "headers" of .*echo\.onnx has no features/],
    ['more inputs than the model has', ['--payload-bytes', '16', '--splt', '4', '--model', cnn, '--features', 'payload_bytes;splt'], /--features gives 2 inputs; .*cnn\.onnx takes 1 \(bytes\)/],
    ['a string column', ['--model', one('str.onnx', ELEM.FLOAT, ['N', 1]), '--features', 'src_ip'], /"--features": "src_ip": src_ip is not numeric/, 2],
    ['no class scores', ['--model', noScores, '--features', 'bidirectional_packets,bidirectional_bytes'], /no output is a class index \(int64 \[N\]\) or class scores/],
    ['no class names file', ['--payload-bytes', '16', '--model', cnn, '--features', 'payload_bytes', '--plugin-option', `labels=${path.join(dir, 'none.txt')}`],
      /labels file .*none\.txt: no such file/],
    ['class names writable by others', ['--payload-bytes', '16', '--model', cnn, '--features', 'payload_bytes', '--plugin-option', `labels=${loose}`],
      /labels file .*loose\.txt is writable by others than its owner/],
    ['normalising a uint8 input', ['--payload-bytes', '8', '--model', one('pn.onnx', ELEM.UINT8, ['N', 8]), '--features', 'payload_bytes',
      '--plugin-option', `normalization=${save('n8.json', JSON.stringify({ x: { mean: 1, std: 2 } }))}`], /only float inputs are normalised/],
    ['normalisation of the wrong length', ['--payload-bytes', '16', '--model', cnn, '--features', 'payload_bytes',
      '--plugin-option', `normalization=${save('n5.json', JSON.stringify({ bytes: { mean: [1, 2, 3, 4, 5], std: 1 } }))}`],
      /normalization for input "bytes" .*: mean has 5 values; the input has 1 channel and 16 values a flow/],
    ['--predict-at with a column a packet cannot give', ['--stats', '--model', one('st.onnx', ELEM.FLOAT, ['N', 1]), '--features', 'bidirectional_mean_ps', '--predict-at', '3'],
      /with --predict-at, scalar features can only be/],
  ];
  fs.writeFileSync(path.join(dir, 'two.txt'), 'a\nb\n', { mode: 0o644 });
  cases.push(['class names one short', ['--payload-bytes', '16', '--model', cnn, '--features', 'payload_bytes', '--plugin-option', `labels=${path.join(dir, 'two.txt')}`],
    /cnn\.onnx scores 3 classes, and 2 class names are given \(a, b\)/]);
  const noFile = path.join(dir, 'never.jsonl');
  cases.push(['with --predictions, a run that cannot start', ['--payload-bytes', '8', '--model', cnn, '--features', 'payload_bytes', '--predictions', noFile],
    /the model takes 16 payload bytes/]);
  for (const [what, args, msg, code = 1] of cases) {
    const r = cli(['-q', 'read', ftp, '--plugin', 'model', ...args, '--csv']);
    t.equal(r.status, code, `${what}: exit ${code}`);
    t.match(r.stderr, msg, `${what}: says why`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
  }
  t.notOk(fs.existsSync(noFile), 'no predictions file left by a run that failed before any prediction');
});

t.test('a model nobody can read: a capture\'s workers (nobody) say why', { skip: NO_ORACLE || binForOthers().why }, async (t) => {
  if (process.getuid?.() !== 0) { t.comment('skipped: needs root to run as nobody'); return; }
  const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-closed-'));
  t.teardown(() => fs.rmSync(closed, { recursive: true, force: true }));
  fs.copyFileSync(cnn, path.join(closed, 'cnn.onnx'));
  // env -i: none of the test runner's loaders (they live in this checkout, which may be closed to nobody)
  const r = spawnSync('env', ['-i', `PATH=${process.env.PATH}`, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath,
    binForOthers().bin as string, '-q', 'read', path.join(PCAPS, 'ftp.pcap'),
    '--payload-bytes', '16', '--plugin', 'model', '--model', path.join(closed, 'cnn.onnx'), '--features', 'payload_bytes', '--csv'],
  { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /model .*cnn\.onnx: permission denied \(a capture loads the model once it has dropped its privileges, as nobody: the file and its folders must be readable by others\)/);
});

t.test('capture with a model its workers (nobody) cannot read: the error, and no "capturing on" before it', async (t) => {
  if (process.getuid?.() !== 0) { t.comment('skipped: a capture needs root here'); return; }
  const tag = String(process.pid % 100000);
  const NS = `fmC${tag}`, V = `fmc${tag}`, PEER = `fmD${tag}`, VP = `fmd${tag}`;
  const missing = vethPair({ ns: NS, dev: V, addr: '10.77.0.1' }, { ns: PEER, dev: VP, addr: '10.77.0.2' });
  if (missing) { t.comment(`skipped: ${missing}`); return; }
  t.teardown(() => deleteNamespaces(NS, PEER));
  const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-closed-'));
  t.teardown(() => fs.rmSync(closed, { recursive: true, force: true }));
  fs.copyFileSync(cnn, path.join(closed, 'cnn.onnx'));
  const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, BIN, 'capture', '-i', V, '--workers', '1', '--payload-bytes', '16',
    '--plugin', 'model', '--model', path.join(closed, 'cnn.onnx'), '--features', 'payload_bytes', '--duration', '5', '--csv'],
  { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 30_000 });
  t.equal(r.status, 1);
  t.match(r.stderr, /flowseek: error: plugin model: model .*cnn\.onnx: permission denied/);
  t.notMatch(r.stderr, /capturing on/, 'it never said the capture had begun');
});

t.test('capture: a flow predicted at its 2nd packet while still open, its JSON line written at once', async (t) => {
  const tag = String(process.pid % 100000);
  const NS_A = `fmA${tag}`, NS_B = `fmB${tag}`, VA = `fma${tag}`, VB = `fmb${tag}`, IP_A = '10.78.0.1', IP_B = '10.78.0.2';
  const missing = vethPair({ ns: NS_A, dev: VA, addr: IP_A }, { ns: NS_B, dev: VB, addr: IP_B });
  if (missing) { t.comment(`skipped: ${missing}`); return; }
  t.teardown(() => deleteNamespaces(NS_A, NS_B));
  const env = { ...process.env, NODE_OPTIONS: '' };
  const predictions = path.join(dir, 'live.jsonl');
  const out = path.join(dir, 'live-flows.jsonl');
  const capture: ChildProcess = spawn('ip', ['netns', 'exec', NS_A, process.execPath, BIN, 'capture', '-i', VA, '--workers', '1', '--dissections', '0',
    ...SIZES, '--plugin', 'model', '--model', echo, '--features', ECHO_FEATURES, '--predict-at', '2', '--predictions', predictions, '-o', out],
  { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  capture.stderr?.on('data', (d) => { stderr += d; });
  for (let i = 0; i < 100 && !/capturing on/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  const send = (text: string) => spawn('ip', ['netns', 'exec', NS_B, process.execPath, '-e',
    `const s=require('dgram').createSocket('udp4');s.bind(42000,'${IP_B}',()=>s.send('${text}',9000,'${IP_A}',()=>s.close()));`], { stdio: 'ignore' });
  const done = (c: ChildProcess) => new Promise((r) => c.on('exit', r));
  await done(send('first'));
  await done(send('second!'));
  let line: Record<string, unknown> | undefined;
  for (let i = 0; i < 50 && !line; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const text = fs.existsSync(predictions) ? fs.readFileSync(predictions, 'utf8') : '';
    line = text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.src_port === 42000);
  }
  t.ok(line, 'the prediction is in the file while the capture runs and the flow is open');
  t.match(line, { src_ip: IP_B, dst_ip: IP_A, dst_port: 9000, protocol: 17, early: true, packets: 2 });
  const got = (line?.probabilities as number[]) ?? [];
  t.same(got.slice(0, 12), [...Buffer.from('firstsecond!')], 'from the two datagrams\' payload');
  t.equal(fs.existsSync(out) ? fs.readFileSync(out, 'utf8').includes('42000') : false, false, 'the flow itself not yet written (still open)');
  capture.kill('SIGINT');
  const code = await new Promise((r) => capture.on('exit', r));
  t.equal(code, 0, stderr);
  const flow = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((f) => f.src_port === 42000);
  t.equal(flow?.udps_model_packets, 2, 'its row carries the same early prediction');
  t.same(probs(flow, PL).slice(0, 12), got.slice(0, 12));
});
