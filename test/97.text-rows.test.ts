/**
 * CSV and JSON Lines made in C where the meter runs (native/text_rows.c) against the JavaScript
 * writers (csvRows, jsonlRows) given the batches of the same flows: the same bytes on every oracle
 * capture, with every kind of column; text decoded as Node-API decodes UTF-8 and escaped as the
 * writers escape it, byte strings of every shape; and the command line's use of both.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { loadNative, NativeTextPlan } from '../src/native';
import { parseMeterOptions, RawReadOptions } from '../src/options';
import { Field } from '../src/schema';
import { FlowBatch } from '../src/flow-batch';
import { FlowStreamer } from '../src/streamer';
import { ByteBuilder } from '../src/writers/bytes';
import { csvRows } from '../src/writers/csv';
import { jsonlKeys, jsonlRows } from '../src/writers/jsonl';
import { nextPartSync, textPlan } from '../src/writers/text-plan';
import { tmpdir, udpBurst } from './helpers/packets';
import { cli, NO_ORACLE, ORACLE } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');
const ALL = NO_ORACLE ? [] : fs.readdirSync(PCAPS).sort().map((n) => path.join(PCAPS, n));
const FORMATS = ['csv', 'jsonl'] as const;

const streamer = (file: string, raw: RawReadOptions) => new FlowStreamer({ ...parseMeterOptions(raw), files: [file] });

/** The JavaScript writers' bytes for the file's flows. */
async function inJavaScript(file: string, raw: RawReadOptions, format: 'csv' | 'jsonl'): Promise<Buffer> {
  const s = streamer(file, raw);
  const out = new ByteBuilder(1 << 16);
  const keys = jsonlKeys(s.fields);
  for await (const b of s.batches()) {
    if (format === 'csv') csvRows(b, out); else jsonlRows(keys, b, out);
  }
  return Buffer.from(out.view());
}

/** The bytes made in C. */
async function inC(file: string, raw: RawReadOptions, format: 'csv' | 'jsonl', maxFlows = 0): Promise<Buffer> {
  const s = streamer(file, raw);
  const parts = s.parts(format, {}, maxFlows);
  if (!parts) throw new Error('no text parts');
  const bytes: Buffer[] = [];
  for await (const o of parts) bytes.push(...o.part.bytes.map((b) => Buffer.from(b)));
  return Buffer.concat(bytes);
}

const WIDE: RawReadOptions = {
  stats: true, splt: '7', payloadBytes: '24', headerBytes: '3', communityId: true, timePrecision: 'ns', activityFeatures: true,
};

t.test('every oracle capture: the bytes of the JavaScript writers', { skip: NO_ORACLE }, async (t) => {
  // every kind of column on every other capture (the time the test takes)
  const runs = [['--stats --splt 20', { stats: true, splt: '20' }, ALL], ['every column kind', WIDE, ALL.filter((_, i) => i % 2 === 0)]] as const;
  for (const [name, raw, files] of runs) {
    for (const format of FORMATS) {
      const differing: string[] = [];
      let bytes = 0;
      for (const file of files) {
        const [js, c] = [await inJavaScript(file, raw, format), await inC(file, raw, format)];
        bytes += c.length;
        if (!js.equals(c)) differing.push(path.basename(file));
      }
      t.same(differing, [], `${name}, ${format}: ${files.length} captures, ${bytes} bytes equal`);
    }
  }
});

t.test('--max-flows: rows past it are left out, and ids run from 0', { skip: NO_ORACLE }, async (t) => {
  const file = path.join(PCAPS, '1kxun.pcap');
  for (const format of FORMATS) {
    const all = (await inJavaScript(file, { stats: true }, format)).toString().split('\n').filter(Boolean);
    const some = (await inC(file, { stats: true }, format, 20)).toString().split('\n').filter(Boolean);
    t.ok(all.length > 20, `${format}: ${all.length} flows`);
    t.same(some, all.slice(0, 20), `${format}: the first 20 rows`);
  }
});

/** A detection text as each JavaScript writer writes it, from the string Node-API makes of its bytes. */
function writersCell(format: 'csv' | 'jsonl', bytes: Buffer): Buffer {
  const field: Field = { name: 'x', type: 'string', group: 'dpi', source: 'string', doc: '' };
  const batch = new FlowBatch([field], [[bytes.toString('utf8')]], 1);
  const out = new ByteBuilder(64);
  if (format === 'csv') csvRows(batch, out); else jsonlRows(jsonlKeys([field]), batch, out);
  const row = Buffer.from(out.view());
  return format === 'csv' ? row.subarray(0, row.length - 1) : row.subarray('{"x":'.length, row.length - 2);
}

t.test('text: decoded as Node-API decodes UTF-8, quoted and escaped as the writers do', async (t) => {
  const native = loadNative();
  const cases: Buffer[] = [
    '', 'plain', 'a,b', 'say "hi"', 'back\\slash', 'line\nbreak', 'cr\rhere', 'tab\there', '\u0001\u001f\u007f', 'é日本🎉',
  ].map((s) => Buffer.from(s, 'utf8'));
  // cut sequences, overlong forms, surrogates, bytes past U+10FFFF, lone continuations
  for (const hex of ['c3', 'e6', 'e697', 'f09f', 'f09f8e', 'c0af', 'e080af', 'eda080', 'edbfbf', 'f4908080', 'f5', 'ff', '80', 'bf41',
    'e0a0', 'e09f80', 'f08f8080', 'c32c', 'e62241', 'f09f0a']) cases.push(Buffer.from(hex, 'hex'));
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x41, 0x5c, 0x7f, 0x80, 0x9f, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe6, 0xed, 0xef,
    0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x90, 0x8f];
  for (let i = 0; i < 20000; i++) {
    const n = Math.floor(rand() * 12);
    cases.push(Buffer.from(Array.from({ length: n }, () => (rand() < 0.8 ? alphabet[Math.floor(rand() * alphabet.length)] : Math.floor(rand() * 256)))));
  }
  for (const format of FORMATS) {
    const differing = cases.filter((b) => !native.textCell(format, b).equals(writersCell(format, b)));
    t.same(differing.slice(0, 5).map((b) => b.toString('hex')), [], `${format}: ${cases.length} byte strings written alike`);
  }
});

t.test('the command line: text made in C where no column is a plugin\'s; the same file either way', { skip: NO_ORACLE }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-text-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const files = ALL.slice(0, 30);
  const plugin = path.join(tmp, 'nothing.js');
  // a plugin that adds no column: its runs take batches, written by the JavaScript writers
  fs.writeFileSync(plugin, 'module.exports = { name: "nothing", onUpdate() {} };\n');
  for (const format of FORMATS) {
    const [a, b] = [path.join(tmp, `c.${format}`), path.join(tmp, `js.${format}`)];
    const r1 = cli(['read', ...files, '--stats', '--splt', '5', '-q', '-o', a]);
    const r2 = cli(['read', ...files, '--stats', '--splt', '5', '-q', '--plugin', plugin, '-o', b]);
    t.equal(r1.status, 0, r1.stderr);
    t.equal(r2.status, 0, r2.stderr);
    t.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), `${format}: the same file (${fs.statSync(a).size} bytes)`);
  }
});

t.test('textOutput() refuses a plan the meter cannot fill', async (t) => {
  const sample = path.join(__dirname, '..', '..', 'samples', 'sample.pcap');
  const plain = new FlowStreamer({ ...parseMeterOptions({}), files: [sample] });
  const withStats = new FlowStreamer({ ...parseMeterOptions({ stats: true }), files: [sample] });
  const meter = loadNative().open(plain.nativeOptions());
  t.teardown(() => meter.close());
  t.throws(() => meter.textOutput({ format: 'xml' } as never), /format must be csv or jsonl/, 'an unknown format');
  const plan = textPlan('csv', withStats.fields, 0);
  t.ok(plan, 'a plan for --stats columns');
  if (plan) t.throws(() => meter.textOutput(plan), /the meter was opened without its option/, 'statistics from a meter without --stats');
  t.throws(() => meter.textOutput({ ...(textPlan('jsonl', plain.fields, 0) as NonNullable<typeof plan>), omitId: true, columns: [...(textPlan('jsonl', plain.fields, 0)?.columns ?? [])].reverse() }),
    /omitId needs the id as the first column/, 'rows without ids need the id first');
  const ok = textPlan('csv', plain.fields, 0);
  if (ok) meter.textOutput(ok);
  const part = await meter.next(64) as unknown as { length: number; bytes: Buffer };
  t.equal(part.length, 6, 'a plan it can fill: the sample\'s six flows as rows');
  t.equal(part.bytes.toString().trim().split('\n').length, 6);
});

t.test('lent buffers: the bytes of copies; a part kept while later ones are made keeps its bytes; a released one serves a later part', async (t) => {
  const file = path.join(tmpdir(), 'lent.pcap');
  fs.writeFileSync(file, udpBurst(6000, { start: 1_600_000_000, stepUs: 1000, sources: 3000, payload: 20 }));
  const native = loadNative();
  const parts = async (lend: boolean, each: (bytes: Buffer, i: number) => void) => {
    const s = streamer(file, { stats: true });
    const meter = native.open(s.nativeOptions());
    meter.textOutput({ ...(textPlan('jsonl', s.fields, 0) as NativeTextPlan), lendBuffers: lend });
    let i = 0;
    for (let p = nextPartSync(meter, 64); p; p = nextPartSync(meter, 64)) {
      if (p.length) each(p.bytes, i++);
      await new Promise(setImmediate); // a released buffer comes back on a later turn of the loop
    }
    meter.close();
    return i;
  };
  const copies: Buffer[] = [];
  const n = await parts(false, (b) => copies.push(Buffer.from(b)));
  const before = native.textBuffers();
  const kept: [number, Buffer][] = [];
  const differing: number[] = [];
  t.equal(await parts(true, (b, i) => {
    if (!b.equals(copies[i])) differing.push(i);
    if (i % 3 === 0) kept.push([i, b]); else native.release(b);
  }), n, 'as many parts');
  const after = native.textBuffers();
  t.ok(n > 40, `${n} parts`);
  t.same(differing, [], 'each part as it came: the bytes of the copy');
  t.same(kept.filter(([i, b]) => !b.equals(copies[i])).map(([i]) => i), [], 'the parts kept: their bytes unchanged by the later parts');
  t.equal(after.lent - before.lent, n, 'every part lent');
  t.ok(after.reused - before.reused >= n / 2, `released buffers lent again (${after.reused - before.reused} of ${n})`);
});

t.test('release(): the memory of a buffer that is its whole ArrayBuffer goes at once; any other is left alone', async (t) => {
  const native = loadNative();
  const whole = Buffer.allocUnsafeSlow(1 << 16).fill(1);
  native.release(whole);
  t.equal(whole.length, 0, 'a buffer of its own: detached, it reads as empty');
  const big = Buffer.allocUnsafeSlow(100).fill(2);
  const slice = big.subarray(10, 20);
  native.release(slice);
  t.equal(slice.length, 10, 'a slice: left alone');
  t.equal(big[0], 2, 'and the buffer it is a slice of too');
  const pooled = Buffer.from('small');
  native.release(pooled);
  t.equal(pooled.toString(), 'small', 'a buffer from Node\'s pool of small buffers: left alone');
  native.release(new Uint16Array(4) as unknown as Uint8Array);
  native.release('not a buffer' as unknown as Uint8Array);
  t.pass('other values: ignored');
});
