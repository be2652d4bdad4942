/**
 * Arrow IPC output read back by an independent reader (the apache-arrow package): the file format
 * (-o x.arrow) and the stream on standard output, every value equal to the Parquet output of the
 * same input read by DuckDB, and the same types.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tableFromIPC } from 'apache-arrow';
import { rows } from './helpers/arrow';
import { lit, query } from './helpers/duckdb';
import { tmpdir } from './helpers/packets';
import { BIN, cli, NO_ORACLE, ORACLE, RUN_LIMIT } from './helpers/run';

const PCAPS = path.join(ORACLE, 'pcaps');
const SOME = NO_ORACLE ? [] : fs.readdirSync(PCAPS).sort().slice(0, 40).map((f) => path.join(PCAPS, f));
const OPTS = ['--stats', '--splt', '5', '--payload-bytes', '8', '--header-bytes', '2', '--community-id'];
const dir = tmpdir();

t.test('Arrow file and stream: every value and type as in the Parquet output', { skip: NO_ORACLE }, async (t) => {
  const pq = path.join(dir, 'all.parquet');
  const file = path.join(dir, 'all.arrow');
  for (const out of [pq, file]) {
    const r = cli(['read', ...SOME, ...OPTS, '-q', '-o', out]);
    t.equal(r.status, 0, r.stderr);
  }
  const streamed = spawnSync(process.execPath, [BIN, 'read', ...SOME, ...OPTS, '-q', '--format', 'arrow'], { ...RUN_LIMIT, maxBuffer: 1 << 28 });
  t.equal(streamed.status, 0, String(streamed.stderr));
  t.equal(fs.readFileSync(file).subarray(0, 6).toString('latin1'), 'ARROW1', 'a file starts with the file format magic');
  t.not(streamed.stdout.subarray(0, 6).toString('latin1'), 'ARROW1', 'standard output gets the stream format');

  // DuckDB's view of the Parquet file, with times as epoch ms and bytes as hex, as norm() makes them
  const schema = await query(`select name, type, logical_type from parquet_schema(${lit(pq)}) where type is not null or name <> 'schema'`);
  const described = await query(`describe select * from read_parquet(${lit(pq)})`);
  const select = described.rows.map(([name, type]) => {
    const q = `"${name}"`;
    if (String(type).startsWith('TIMESTAMP')) return `epoch_ms(${q}) as ${q}`;
    if (type === 'BLOB') return `lower(hex(${q})) as ${q}`;
    if (type === 'BLOB[]') return `list_transform(${q}, x -> lower(hex(x))) as ${q}`;
    return q;
  });
  const parquet = await query(`select ${select.join(', ')} from read_parquet(${lit(pq)})`);
  t.ok(schema.rows.length > 0 && parquet.rows.length > 400, `${parquet.rows.length} flows`);

  for (const [label, bytes] of [['file', fs.readFileSync(file)], ['stream', streamed.stdout]] as const) {
    const table = tableFromIPC(bytes);
    t.same(table.schema.fields.map((f) => f.name), parquet.names, `${label}: the Parquet columns, in order`);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    t.same([types.src_port, types.protocol, types.expiration_id, types.id, types.src_ip, types.splt_ps, types.payload_bytes, types.bidirectional_first_seen],
      ['Uint16', 'Uint8', 'Int8', 'Int64', 'Utf8', 'List<Int64>', 'FixedSizeBinary[8]', 'Timestamp<MILLISECOND, UTC>'],
      `${label}: Parquet's logical types`);
    const got = rows(table);
    t.equal(got.length, parquet.rows.length, `${label}: as many flows`);
    let differ = 0;
    got.forEach((row, r) => row.forEach((v, i) => {
      if (JSON.stringify(v) !== JSON.stringify(parquet.rows[r][i]) && differ++ < 5) {
        t.fail(`${label} row ${r} ${parquet.names[i]}: arrow ${JSON.stringify(v)} parquet ${JSON.stringify(parquet.rows[r][i])}`);
      }
    }));
    t.equal(differ, 0, `${label}: every value equal to Parquet's`);
  }
});

t.test('a run with no flow writes a readable, empty Arrow file with the schema', { skip: NO_ORACLE }, async (t) => {
  const out = path.join(dir, 'none.arrow');
  const r = cli(['read', path.join(PCAPS, 'skype.pcap'), '--bpf', 'port 1', '-q', '-o', out]);
  t.equal(r.status, 0, r.stderr);
  const table = tableFromIPC(fs.readFileSync(out));
  t.equal(table.numRows, 0);
  t.ok(table.schema.fields.some((f) => f.name === 'bidirectional_first_seen_ms'), 'the columns are there');
});

t.test('format flags: arrow is named by --format or the extension', { skip: NO_ORACLE }, async (t) => {
  const bad = cli(['read', path.join(PCAPS, 'skype.pcap'), '--format', 'feather']);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /csv, jsonl, parquet, arrow/);
  const out = path.join(dir, 'named.arrows');
  t.equal(cli(['read', path.join(PCAPS, 'skype.pcap'), '-q', '-o', out]).status, 0);
  t.not(fs.readFileSync(out).subarray(0, 6).toString('latin1'), 'ARROW1', '.arrows: the stream format in a file');
  t.ok(tableFromIPC(fs.readFileSync(out)).numRows > 0);
  t.same(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
});
