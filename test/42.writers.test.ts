/** CSV and JSON Lines with hostile text (commas, quotes, newlines, control characters, non-ASCII):
 * read back by DuckDB's CSV reader and by JSON.parse, every value as it went in. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { fieldsFor } from '../src/schema';
import { FlowBatch } from '../src/flow-batch';
import { Sink, WRITERS } from '../src/writers';
import { ByteBuilder, NumberKind } from '../src/writers/bytes';
import { lit, query } from './helpers/duckdb';
import { tmpdir } from './helpers/packets';

const fields = fieldsFor({ decodeTunnels: true, stats: false, splt: 3, dissections: 20 });
const texts = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\rhere', 'tab\there', '\u0001ctl', 'ünïcødé ✓', '', '"', ',', 'Mozilla/5.0 (X11; Linux x86_64)'];
const n = texts.length;
const batch = new FlowBatch(fields, fields.map((f, fi) => {
  if (f.type === 'string') return texts.map((_, r) => texts[(r + fi) % n]);
  if (f.type.startsWith('list')) return { n: 3, values: Float64Array.from({ length: 3 * n }, (_, k) => k - 1) };
  return Float64Array.from({ length: n }, (_, r) => (f.type === 'float64' ? r / 3 : r * 7 - (f.type === 'int8' ? 1 : 0)));
}), n);

async function write(format: 'csv' | 'jsonl'): Promise<string> {
  const file = path.join(tmpdir(), `hostile.${format}`);
  const w = WRITERS[format](fields, Sink.file(file));
  await w.write(batch);
  await w.close();
  return file;
}

t.test('JSON Lines: every value back through JSON.parse', async (t) => {
  const rows = fs.readFileSync(await write('jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(rows.length, n);
  rows.forEach((row, r) => t.same(row, batch.row(r), `row ${r}`));
});

t.test('JSON Lines: a lone surrogate (a plugin\'s text) is written as U+FFFD, which DuckDB reads; \\ud800 it refused', async (t) => {
  const lone = ['\ud800', 'a\udc00b', 'quote " and \ud83d'];
  const b = new FlowBatch(fields, fields.map((f) => (f.type === 'string' ? [...lone]
    : f.type.startsWith('list') ? { n: 3, values: new Float64Array(3 * lone.length) } : new Float64Array(lone.length))), lone.length);
  const file = path.join(tmpdir(), 'lone.jsonl');
  const w = WRITERS.jsonl(fields, Sink.file(file));
  await w.write(b);
  await w.close();
  const text = fs.readFileSync(file, 'utf8');
  t.notMatch(text, /\\ud8|\\udc/, 'no escaped lone surrogate');
  const r = await query(`select src_ip from read_json(${lit(file)}, format = 'newline_delimited')`);
  t.same(r.rows.map((x) => x[0]), ['\ufffd', 'a\ufffdb', 'quote " and \ufffd']);
});

t.test('CSV: every value back through DuckDB\'s reader (RFC 4180 quoting)', async (t) => {
  const file = await write('csv');
  const table = await query(`select * from read_csv(${lit(file)}, header = true, all_varchar = true, quote = '"', escape = '"', delim = ',')`);
  t.same(table.names, fields.map((f) => f.name));
  table.rows.forEach((row, r) => {
    const want = fields.map((f, i) => {
      const v = batch.value(i, r);
      return Array.isArray(v) ? JSON.stringify(v) : String(v);
    });
    // DuckDB reads an empty unquoted field as NULL
    t.same(row.map((v) => (v === null ? '' : v)), want, `row ${r}`);
  });
});

// Parquet pages take a column's numbers in one copy (ByteBuilder.numbers): the bytes must be those
// of one call per value, edge values included, from any part of a column into any position.
t.test('numbers() in one copy: the bytes of a call per value', async (t) => {
  const edge = [0, -0, 1, -1, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 32 + 5, -(2 ** 31), -(2 ** 31) - 1,
    2 ** 53, -(2 ** 53), 2 ** 63, -(2 ** 63), 2 ** 64, -(2 ** 64), 1.5, -2.5, 1e300, NaN, Infinity, -Infinity, 123456789.75];
  const backing = new Float64Array(edge.length + 3);
  backing.set(edge, 3);
  const column = backing.subarray(1); // a column that does not start its buffer
  const one: Record<NumberKind, (b: ByteBuilder, v: number) => void> = {
    f64: (b, v) => b.float64(v), u32: (b, v) => b.uint32(v), i32: (b, v) => b.int32(v), i64: (b, v) => b.int64(v),
  };
  for (const kind of ['f64', 'u32', 'i32', 'i64'] as const) {
    for (const [from, to] of [[2, column.length], [5, 9], [0, 0]]) {
      const bulk = new ByteBuilder(4);
      const each = new ByteBuilder(4);
      bulk.byte(7); each.byte(7); // an odd position
      bulk.numbers(column, from, to, kind);
      for (let r = from; r < to; r++) one[kind](each, column[r]);
      t.same(bulk.view(), each.view(), `${kind}, values ${from} to ${to}`);
    }
  }
});
