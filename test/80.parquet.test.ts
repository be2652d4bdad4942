/**
 * Parquet output read back by DuckDB (an independent reader): value for value and type for type
 * against the JSONL of the same input; codecs, row groups and pages; Hive datasets; rotation;
 * anonymisation; and files that stay whole when a run is cut short. Statistics checked against
 * the data per row group, dictionary-encoded labels, logical types; a dataset keeps one schema.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { FieldType, fieldsFor } from '../src/schema';
import { parseMeterOptions } from '../src/options';
import { lit, query } from './helpers/duckdb';
import { FlowBatch } from '../src/flow-batch';
import { FlowOutput } from '../src/writers/output';
import { tmpdir } from './helpers/packets';
import { BIN, cli, NO_ORACLE, ORACLE } from './helpers/run';
import { replicate } from './helpers/replicate';

const PCAPS = path.join(ORACLE, 'pcaps');
const ALL = NO_ORACLE ? [] : fs.readdirSync(PCAPS).sort().map((f) => path.join(PCAPS, f));
const dir = tmpdir();

const DUCKDB_TYPE: Record<FieldType, string> = {
  uint64: 'BIGINT', int64: 'BIGINT', uint32: 'UINTEGER', uint16: 'USMALLINT', uint8: 'UTINYINT', int8: 'TINYINT',
  float64: 'DOUBLE', string: 'VARCHAR', 'list<int64>': 'BIGINT[]', bytes: 'BLOB', 'list<bytes>': 'BLOB[]',
};

function jsonl(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function run(args: string[]): void {
  const r = cli(['-q', ...args]);
  if (r.status !== 0) throw new Error(`flowseek ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
}

t.test('every oracle capture: Parquet equals JSONL value for value, with schema types', { skip: NO_ORACLE }, async (t) => {
  const opts = ['--stats', '--splt', '10'];
  const pq = path.join(dir, 'all.parquet');
  const js = path.join(dir, 'all.jsonl');
  run(['read', ...ALL, ...opts, '-o', pq]);
  run(['read', ...ALL, ...opts, '-o', js]);
  const expected = jsonl(js);
  const table = await query(`select * from read_parquet(${lit(pq)})`);
  const fields = fieldsFor(parseMeterOptions({ stats: true, splt: '10' }));
  const TWINS = ['bidirectional_first_seen', 'bidirectional_last_seen'];
  t.same(table.names, [...fields.map((f) => f.name), ...TWINS], 'columns in schema order, then the time twins');
  t.same(table.types, [...fields.map((f) => DUCKDB_TYPE[f.type]), 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP WITH TIME ZONE'],
    'each column has its schema type; the twins are timestamps');
  t.equal(table.rows.length, expected.length, `${expected.length} flows`);
  t.ok(expected.length > 2000, 'the whole oracle folder was read');
  const twins = await query(`select count(*) from read_parquet(${lit(pq)}) where epoch_ms(bidirectional_first_seen) <> bidirectional_first_seen_ms
    or epoch_ms(bidirectional_last_seen) <> bidirectional_last_seen_ms`);
  t.equal(twins.rows[0][0], 0, 'each twin is its *_ms column as a time');
  let mismatches = 0;
  table.rows.forEach((row, r) => {
    row.forEach((v, i) => {
      if (TWINS.includes(table.names[i])) return;
      const want = expected[r][table.names[i]];
      if (JSON.stringify(v) !== JSON.stringify(want)) {
        if (mismatches++ < 5) t.fail(`row ${r} ${table.names[i]}: parquet ${JSON.stringify(v)} jsonl ${JSON.stringify(want)}`);
      }
    });
  });
  t.equal(mismatches, 0, 'no value differs');
  const apps = await query(`select count(*) from read_parquet(${lit(pq)}) where application_name like 'TLS.%' and client_ja4 <> ''`);
  t.ok((apps.rows[0][0] as number) > 0, 'application strings and JA4 present');
});

t.test('codecs, small row groups and many pages read back alike', { skip: NO_ORACLE }, async (t) => {
  const some = ['skype.pcap', 'facebook.pcap', 'tor.pcap', 'quic-33.pcapng'].map((f) => path.join(PCAPS, f));
  const ref = path.join(dir, 'ref.jsonl');
  run(['read', ...some, '--splt', '255', '-o', ref]);
  const expected = jsonl(ref);
  const sizes: Record<string, number> = {};
  for (const codec of ['zstd', 'snappy', 'gzip', 'none']) {
    const out = path.join(dir, `c-${codec}.parquet`);
    run(['read', ...some, '--splt', '255', '--compression', codec, '--row-group-rows', '100', '-o', out]);
    sizes[codec] = fs.statSync(out).size;
    const table = await query(`select * exclude (bidirectional_first_seen, bidirectional_last_seen) from read_parquet(${lit(out)}) order by id`);
    const meta = await query(`select count(distinct row_group_id), max(compression) from parquet_metadata(${lit(out)})`);
    t.equal(meta.rows[0][0], Math.ceil(expected.length / 100), `${codec}: row groups of 100 flows`);
    t.equal(String(meta.rows[0][1]).toLowerCase(), codec === 'none' ? 'uncompressed' : codec, `${codec}: the codec asked for`);
    const same = table.rows.every((row, r) => row.every((v, i) => JSON.stringify(v) === JSON.stringify(expected[r][table.names[i]])));
    t.ok(same && table.rows.length === expected.length, `${codec}: ${table.rows.length} flows, every value as in JSONL`);
  }
  t.ok(sizes.zstd < sizes.none / 3, `zstd makes the file smaller (${sizes.zstd} vs ${sizes.none} bytes)`);
});

t.test('a Hive-partitioned dataset: DuckDB reads it as one table; runs add files, never replace', { skip: NO_ORACLE }, async (t) => {
  const ds = path.join(dir, 'dataset');
  const r = cli(['read', ...ALL, '-o', ds, '--partition', 'hour', '--splt', '3']);
  t.equal(r.status, 0, 'exit 0');
  const flows = Number(/(\d+) flows from/.exec(r.stderr)?.[1]);
  t.ok(flows > 2000, `${flows} flows`);
  const glob = lit(`${ds}/**/*.parquet`);
  const hive = (sql: string, g = glob) => query(sql.replace('$DS', `read_parquet(${g}, hive_partitioning = true)`));
  const all = await hive('select count(*) from $DS');
  t.equal(all.rows[0][0], flows, 'row count equals the flows written');
  // a timestamp beyond what a date holds (a fuzzed capture) goes to Hive's default partition
  const wrong = await hive(`select count(*) from $DS where dt is not null and (
      strftime(make_timestamp(bidirectional_first_seen_ms * 1000), '%Y-%m-%d') <> dt::varchar
      or hour::int <> hour(make_timestamp(bidirectional_first_seen_ms * 1000)))`);
  t.equal(wrong.rows[0][0], 0, 'each flow sits in the partition of its first packet (UTC)');
  t.same(fs.readdirSync(ds).filter((n) => !n.startsWith('dt=')), ['_flowseek_schema.json'], 'only partition folders and the schema at the top');
  const types = await hive('select typeof(dt), typeof(hour) from $DS limit 1');
  t.same(types.rows[0], ['DATE', 'BIGINT'], 'partition values come back as a date and a number');
  t.equal(cli(['read', ...ALL, '-o', ds, '--partition', 'hour', '--splt', '3', '-q']).status, 0);
  const twice = await hive('select count(*) from $DS');
  t.equal(twice.rows[0][0], 2 * flows, 'a second run adds its files beside the first');
  const day = path.join(dir, 'by-day');
  run(['read', ...ALL, '-o', day, '--partition', 'day', '--format', 'csv']);
  t.ok(fs.readdirSync(day).every((n) => /^dt=(\d{4}-\d\d-\d\d|__HIVE_DEFAULT_PARTITION__)$|^_flowseek_schema.json$/.test(n)), 'day partitions');
  const csvRows = await query(`select count(*) from read_csv(${lit(`${day}/**/*.csv`)}, hive_partitioning = true)`);
  t.equal(csvRows.rows[0][0], flows, 'CSV datasets too');
  t.same(walk(dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
});

t.test('a dataset over many hours: partitions closed when idle and reopened as a new part', async (t) => {
  const fields = fieldsFor({ decodeTunnels: true, stats: false, splt: 0, dissections: 0 });
  const flow = (id: number, firstMs: number) => new FlowBatch(fields, fields.map((f) => {
    if (f.type === 'string') return [`10.0.0.${id}`];
    return Float64Array.of(f.name === 'id' ? id : f.name.endsWith('_seen_ms') ? firstMs : 1);
  }), 1);
  const ds = path.join(dir, 'hours');
  const out = new FlowOutput(fields, { output: ds, format: 'parquet', compression: 'zstd', flowsPerFile: 0, rotateMs: 0,
    partition: 'hour', anonymize: [], rowGroupRows: 0 }, 0);
  for (let h = 0; h < 12; h++) await out.write(flow(h, h * 3600e3)); // one flow an hour
  await out.write(flow(12, 60e3)); // a late flow from hour 0, whose file was closed meanwhile
  await out.close();
  t.equal(out.written.length, 13);
  t.same(fs.readdirSync(path.join(ds, 'dt=1970-01-01', 'hour=0')).sort(), ['part-0.parquet', 'part-1.parquet'],
    'hour 0: its file was closed when more than 8 partitions were open; the late flow went to a new part');
  const rows = await query(`select hour, count(*) from read_parquet(${lit(`${ds}/**/*.parquet`)}, hive_partitioning = true) group by hour order by hour`);
  t.same(rows.rows.map((r) => r[1]), [2, ...Array(11).fill(1)], 'every flow once, in its hour');
});

function walk(root: string): string[] {
  return fs.readdirSync(root, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(root, e.name)) : [path.join(root, e.name)]);
}

t.test('statistics: each row group\'s min, max and null count as in its rows; labels dictionary-encoded; logical types', { skip: NO_ORACLE }, async (t) => {
  const out = path.join(dir, 'stats.parquet');
  run(['read', ...ALL, '--stats', '--splt', '4', '--payload-bytes', '4', '--row-group-size', '500', '-o', out]);
  const f = lit(out);
  const meta = await query(`select row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count, encodings
    from parquet_metadata(${f})`);
  const groups = new Set(meta.rows.map((r) => r[0])).size;
  t.ok(groups >= 4, `${groups} row groups of 500 flows`);
  const described = await query(`describe select * from read_parquet(${f})`);
  let checked = 0;
  let wrong = 0;
  for (const [name, type] of described.rows as [string, string][]) {
    const q = `"${name}"`;
    // per row group, the column's min and max as the metadata renders them, and as a number when numeric
    const value = type.startsWith('TIMESTAMP') ? (x: string) => `epoch_ms(${x})`
      : type.endsWith('[]') || type === 'BLOB' ? undefined : (x: string) => x;
    if (!value) continue;
    const actual = await query(`select file_row_number // 500, ${value(`min(${q})`)}, ${value(`max(${q})`)}
      from read_parquet(${f}, file_row_number = true) group by 1 order by 1`);
    const stats = await query(`select row_group_id, ${value(`stats_min_value::${type}`)}, ${value(`stats_max_value::${type}`)}, stats_null_count
      from parquet_metadata(${f}) where path_in_schema = ${lit(name)} order by 1`);
    const longest = (await query(`select max(strlen(${q}::varchar)) from read_parquet(${f})`)).rows[0][0] as number;
    actual.rows.forEach((row, g) => {
      const s = stats.rows[g];
      checked++;
      if (s[3] !== 0) { wrong++; t.fail(`${name} group ${g}: null count ${s[3]}`); return; }
      // text longer than 128 bytes keeps no min and max: no reader can prune on it
      if (s[1] === null && type === 'VARCHAR' && longest > 128) return;
      if (JSON.stringify([s[1], s[2]]) !== JSON.stringify([row[1], row[2]])) {
        if (wrong++ < 5) t.fail(`${name} group ${g}: statistics ${JSON.stringify([s[1], s[2]])}, data ${JSON.stringify([row[1], row[2]])}`);
      }
    });
  }
  t.ok(checked > 300, `${checked} column chunks checked`);
  t.equal(wrong, 0, 'every column chunk\'s statistics match its rows');
  const labels = meta.rows.filter((r) => ['application_name', 'application_category_name', 'src_oui'].includes(r[1] as string));
  t.ok(labels.length === 3 * groups && labels.every((r) => String(r[5]).includes('RLE_DICTIONARY')), 'label columns are dictionary-encoded');
  const schema = await query(`select name, converted_type, logical_type from parquet_schema(${f})`);
  const logical = Object.fromEntries(schema.rows.map((r) => [r[0], String(r[2])]));
  t.match(logical.src_port, /IntType\(bitWidth=.*, isSigned=0\)/, 'uint16: INTEGER unsigned');
  t.match(logical.expiration_id, /isSigned=1/, 'int8: INTEGER signed');
  t.match(logical.bidirectional_first_seen_ms, /isSigned=1/, 'time in ms: a signed integer, as NFStream has it');
  t.match(logical.application_name, /StringType/, 'text: STRING');
  t.match(logical.bidirectional_first_seen, /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS/, 'the twin: a UTC timestamp');
});

t.test('dictionary fallback: a chunk whose text outgrows the dictionary goes on PLAIN, every value kept', async (t) => {
  const fields = fieldsFor({ decodeTunnels: false, stats: false, splt: 0, dissections: 0 });
  const n = 60_000;
  const batch = new FlowBatch(fields, fields.map((f) => {
    if (f.name === 'src_ip') return Array.from({ length: n }, (_, i) => `host-${i}-${'x'.repeat(20)}`);
    if (f.type === 'string') return Array.from({ length: n }, (_, i) => `label-${i % 3}`);
    return Float64Array.from({ length: n }, (_, i) => i);
  }), n);
  const out = path.join(dir, 'fallback.parquet');
  const o = new FlowOutput(fields, { output: out, format: 'parquet', compression: 'zstd', flowsPerFile: 0, rotateMs: 0,
    anonymize: [], rowGroupRows: 0 }, 0);
  await o.write(batch);
  await o.close();
  const meta = await query(`select path_in_schema, encodings from parquet_metadata(${lit(out)}) where path_in_schema in ('src_ip', 'dst_ip')`);
  const enc = Object.fromEntries(meta.rows.map((r) => [r[0], String(r[1])]));
  t.match(enc.src_ip, /RLE_DICTIONARY.*PLAIN|PLAIN.*RLE_DICTIONARY/, `distinct text: dictionary pages, then PLAIN (${enc.src_ip})`);
  t.match(enc.dst_ip, /RLE_DICTIONARY/, 'three labels: dictionary');
  const r = await query(`select count(distinct src_ip), min(src_ip), max(src_ip), count(*) filter (where src_ip <> 'host-' || id::varchar || '-' || repeat('x', 20)) from read_parquet(${lit(out)})`);
  t.same(r.rows[0], [n, `host-0-${'x'.repeat(20)}`, `host-9999-${'x'.repeat(20)}`, 0], 'every value read back in its row');
});

t.test('a dataset keeps one schema: the same options add files, other options are refused', { skip: NO_ORACLE }, async (t) => {
  const ds = path.join(dir, 'one-schema');
  const some = ALL.slice(0, 10);
  run(['read', ...some, '-o', ds, '--partition', 'day', '--stats']);
  run(['read', ...some, '-o', ds, '--partition', 'day', '--stats']);
  const files = walk(ds);
  t.equal(files.filter((n) => n.endsWith('.parquet')).length % 2, 0, 'the second run added its files');
  for (const [extra, says] of [[[], /this run lacks bidirectional_min_ps/], [['--stats', '--splt', '3'], /this run adds splt_direction, splt_ps, splt_piat_ms/],
    [['--stats', '--time-precision', 'us'], /bidirectional_first_seen \(timestamp\[ms\] there, timestamp\[us\] here\)/],
    [['--stats', '--format', 'csv'], /it holds parquet files, this run writes csv/],
    // dt=X/part-0 beside dt=X/hour=H/part-0: Hive readers count those flows twice
    [['--stats', '--partition', 'hour'], /it is partitioned by day, this run by hour/]] as [string[], RegExp][]) {
    const r = cli(['read', ...some, '-o', ds, '--partition', 'day', ...extra]);
    t.equal(r.status, 1, `${extra.join(' ') || 'no --stats'}: refused`);
    t.match(r.stderr, says, 'the message says what differs');
    t.equal(r.stderr.trim().split('\n').length, 1, 'on one line');
  }
  t.same(walk(ds), files, 'nothing added or left behind by the refused runs');
  const rows = await query(`select count(*) from read_parquet(${lit(`${ds}/**/*.parquet`)}, hive_partitioning = true, union_by_name = false)`);
  t.ok((rows.rows[0][0] as number) > 0, 'the dataset reads as one table');
});

t.test('rotation by flow count and by flow time', { skip: NO_ORACLE }, async (t) => {
  const some = ALL.slice(0, 30);
  const out = path.join(dir, 'rot', 'flows.csv');
  fs.mkdirSync(path.dirname(out));
  run(['read', ...some, '-o', out, '--flows-per-file', '100']);
  const names = fs.readdirSync(path.dirname(out)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  const counts = names.map((n) => fs.readFileSync(path.join(path.dirname(out), n), 'utf8').trim().split('\n').length - 1);
  const total = counts.reduce((a, b) => a + b, 0);
  t.match(names[0], 'flows.0.csv');
  t.ok(counts.slice(0, -1).every((c) => c === 100) && counts[counts.length - 1] <= 100, `files of 100 flows: ${counts.join(',')}`);
  const single = cli(['read', ...some, '--csv', '-q']).stdout.trim().split('\n').length - 1;
  t.equal(total, single, 'no flow lost or repeated');
  const pq = path.join(dir, 'rot', 'flows.parquet');
  run(['read', ...some, '-o', pq, '--flows-per-file', '250']);
  const rows = await query(`select count(*), count(distinct id) from read_parquet(${lit(path.join(dir, 'rot', 'flows.*.parquet'))})`);
  t.same(rows.rows[0], [single, single], 'Parquet rotation: every flow once');
  const timed = path.join(dir, 'rot', 'timed.jsonl');
  run(['read', ...some, '-o', timed, '--rotate', '3600']);
  const parts = fs.readdirSync(path.dirname(timed)).filter((n) => n.startsWith('timed.'));
  t.ok(parts.length > 1, `${parts.length} files, one per hour of flow time`);
  for (const p of parts) {
    const last = jsonl(path.join(path.dirname(timed), p)).map((f) => f.bidirectional_last_seen_ms as number);
    if (last.length < 2) continue;
    t.ok(Math.max(...last) - Math.min(...last) < 3600e3 + 120e3 * 2 + 1800e3, `${p}: spans about an hour of flow time`);
  }
});

t.test('anonymisation: keyed, consistent, distinct; a key makes it stable across runs', { skip: NO_ORACLE }, async (t) => {
  const some = ALL.slice(0, 20);
  const plain = jsonl((run(['read', ...some, '-o', path.join(dir, 'p.jsonl')]), path.join(dir, 'p.jsonl')));
  const anon = (name: string, extra: string[]) => {
    run(['read', ...some, '-o', path.join(dir, name), '--anonymize', 'src_ip,dst_ip,src_mac,requested_server_name', ...extra]);
    return jsonl(path.join(dir, name));
  };
  const a = anon('a.jsonl', []);
  const b = anon('b.jsonl', []);
  const k1 = anon('k1.jsonl', ['--anonymize-key', 'lab-2026']);
  const k2 = anon('k2.jsonl', ['--anonymize-key', 'lab-2026']);
  t.equal(a.length, plain.length);
  const map = new Map<string, string>();
  let consistent = true;
  plain.forEach((f, r) => {
    for (const c of ['src_ip', 'dst_ip']) {
      const seen = map.get(f[c] as string);
      if (seen !== undefined && seen !== a[r][c]) consistent = false;
      map.set(f[c] as string, a[r][c] as string);
    }
  });
  t.ok(consistent, 'equal addresses hash equal');
  t.equal(new Set(map.values()).size, map.size, `distinct addresses stay distinct (${map.size})`);
  t.ok(a.every((f, r) => f.src_ip !== plain[r].src_ip && /^[0-9a-f]{64}$/.test(f.src_ip as string)), 'no address left in clear');
  t.ok(a.every((f, r) => f.dst_port === plain[r].dst_port && f.dst_mac === plain[r].dst_mac), 'other columns untouched');
  t.ok(a.every((f, r) => (plain[r].requested_server_name === '') === (f.requested_server_name === '')), 'an empty value stays empty');
  t.notSame(a[0].src_ip, b[0].src_ip, 'without a key, each run has its own');
  t.same(k1.map((f) => f.src_ip), k2.map((f) => f.src_ip), 'with --anonymize-key, runs agree');
  const bad = cli(['read', some[0], '--anonymize', 'src_port']);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /"src_port" is a number/);
});

t.test('--max-flows in the middle of a Parquet file: a whole file with exactly that many flows', { skip: NO_ORACLE }, async (t) => {
  const out = path.join(dir, 'max.parquet');
  run(['read', ...ALL, '-o', out, '--max-flows', '777', '--row-group-rows', '100']);
  const r = await query(`select count(*), min(id), max(id) from read_parquet(${lit(out)})`);
  t.same(r.rows[0], [777, 0, 776]);
});

/** Starts flowseek reading a FIFO fed with endless distinct flows; resolves with its exit code and stderr. */
function endlessRead(name: string, args: string[]): { done: Promise<{ code: number | null; stderr: string }>; kill: (s: NodeJS.Signals) => void } {
  const fifo = path.join(dir, `${name}.fifo`);
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, [BIN, 'read', fifo, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const feed = fs.createWriteStream(fifo);
  feed.on('error', () => { /* the reader stopped: expected */ });
  replicate(path.join(PCAPS, 'dnscrypt-v1-and-resolver-pings.pcap'), 1_000_000, feed).catch(() => undefined);
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => {
    feed.destroy();
    resolve({ code, stderr });
  }));
  return { done, kill: (s) => child.kill(s) };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  t.test(`${signal} in the middle of a Parquet write: complete, readable files`, { skip: NO_ORACLE }, async (t) => {
    const out = path.join(dir, `${signal}.parquet`);
    const ds = path.join(dir, `${signal}-ds`);
    for (const target of [['-o', out], ['-o', ds, '--partition', 'day', '--flows-per-file', '5000']]) {
      const run = endlessRead(`${signal}-${target.length}`, [...target, '--stats', '--splt', '20', '--row-group-rows', '3000']);
      await new Promise((r) => setTimeout(r, 2500));
      run.kill(signal);
      const { code, stderr } = await run.done;
      t.equal(code, 130, `${target.join(' ')}: exit 130`);
      const flows = Number(/(\d+) flows from/.exec(stderr)?.[1]);
      const src = target.length === 2 ? lit(out) : lit(`${ds}/**/*.parquet`);
      const r = await query(`select count(*), count(distinct id) from read_parquet(${src})`);
      t.ok(flows > 5000, `${flows} flows before the signal`);
      t.same(r.rows[0], [flows, flows], `${target.join(' ')}: every flow reported is in readable Parquet, once`);
      t.same(walk(dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
    }
  });
}

t.test('memory stays bounded: 2 million flows to Parquet', { skip: NO_ORACLE }, async (t) => {
  const source = path.join(PCAPS, 'dnscrypt-v1-and-resolver-pings.pcap');
  const fifo = path.join(dir, 'many.fifo');
  const out = path.join(dir, 'many.parquet');
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, [BIN, 'read', fifo, '-o', out, '--dissections', '0', '--stats'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const copies = 8000; // 251 flows a copy
  await replicate(source, copies, fs.createWriteStream(fifo));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  t.equal(code, 0, stderr);
  const flows = Number(/(\d+) flows from/.exec(stderr)?.[1]);
  const peak = Number(/peak memory (\d+) MB/.exec(stderr)?.[1]);
  t.ok(flows >= 2_000_000, `${flows} flows`);
  t.ok(peak < 400, `peak memory ${peak} MB, under the 400 MB bound`);
  const r = await query(`select count(*) from read_parquet(${lit(out)})`);
  t.equal(r.rows[0][0], flows, 'all of them in the file');
  fs.rmSync(out);
});
