/**
 * Row-group pruning: flowseek's Parquet file against the same rows written by DuckDB's COPY (same
 * row group size). For a time filter (first seen after the 90th percentile) and a label filter
 * (application_name = 'TLS', which matches nothing: names are master.app), counts the row groups
 * whose statistics let a reader keep them, and times each query in DuckDB (median of 5).
 * With BASE=<another build's folder>, that build's file is measured too (before/after).
 * Usage: npm run build && node dist/bench/pruning.js CAPTURE
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lit, query } from '../test/helpers/duckdb';

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, 'bench', 'cache');

function write(bin: string, input: string, out: string): { cpu: number; rss: number } {
  const timing = path.join(CACHE, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-o', timing, '-f', '%M %U %S', process.execPath, bin, 'read', input, '--stats', '-q', '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const [kb, user, sys] = fs.readFileSync(timing, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { cpu: user + sys, rss: kb / 1024 };
}

async function kept(file: string, column: string, test: string): Promise<string> {
  const r = await query(`select count(distinct row_group_id) filter (where stats_min_value is null or (${test})), count(distinct row_group_id)
    from parquet_metadata(${lit(file)}) where path_in_schema = ${lit(column)}`);
  return `${r.rows[0][0]} of ${r.rows[0][1]}`;
}

async function ms(sql: string): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint();
    await query(sql);
    t.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return t.sort((a, b) => a - b)[2];
}

async function main(): Promise<void> {
  const input = process.argv[2];
  fs.mkdirSync(CACHE, { recursive: true });
  const files: [string, string, string][] = [['flowseek', path.join(CACHE, 'prune-flowseek.parquet'), path.join(ROOT, 'bin', 'flowseek')]];
  if (process.env.BASE) files.push(['flowseek before', path.join(CACHE, 'prune-before.parquet'), path.join(process.env.BASE, 'bin', 'flowseek')]);
  const runs = files.map(([label, out, bin]) => ({ label, out, ...write(bin, input, out) }));
  const duck = path.join(CACHE, 'prune-duckdb.parquet');
  const groups = await query(`select max(row_group_num_rows) from parquet_metadata(${lit(files[0][1])})`);
  await query(`copy (select * from read_parquet(${lit(files[0][1])})) to ${lit(duck)} (format parquet, row_group_size ${groups.rows[0][0]})`);
  const p90 = (await query(`select quantile_disc(bidirectional_first_seen_ms, 0.9) from read_parquet(${lit(duck)})`)).rows[0][0] as number;
  const flows = (await query(`select count(*) from read_parquet(${lit(duck)})`)).rows[0][0];
  console.log(`${flows} flows (${path.basename(input)}, --stats); time filter: bidirectional_first_seen_ms > ${p90} (p90); label filter: application_name = 'TLS'`);
  console.log('| file | MB | row groups kept, time | query ms, time | row groups kept, label | query ms, label | write CPU s | write peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|');
  const rows: { label: string; out: string; cpu?: number; rss?: number }[] = [...runs, { label: 'DuckDB COPY of the same rows', out: duck }];
  for (const r of rows) {
    const f = lit(r.out);
    const time = await kept(r.out, 'bidirectional_first_seen_ms', `stats_max_value::bigint > ${p90}`);
    const label = await kept(r.out, 'application_name', `stats_min_value <= 'TLS' and stats_max_value >= 'TLS'`);
    const tq = await ms(`select count(*), sum(bidirectional_bytes) from read_parquet(${f}) where bidirectional_first_seen_ms > ${p90}`);
    const lq = await ms(`select count(*), sum(bidirectional_bytes) from read_parquet(${f}) where application_name = 'TLS'`);
    const size = fs.statSync(r.out).size / 1e6;
    console.log(`| ${r.label} | ${size.toFixed(1)} | ${time} | ${tq.toFixed(1)} | ${label} | ${lq.toFixed(1)} | ${r.cpu?.toFixed(2) ?? '—'} | ${r.rss?.toFixed(0) ?? '—'} |`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
