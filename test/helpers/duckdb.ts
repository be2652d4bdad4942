/** DuckDB as the independent Parquet reader of the tests: column names, types and plain rows. */
import { DuckDBInstance, DuckDBListValue } from '@duckdb/node-api';

export interface Table {
  names: string[];
  types: string[];
  rows: unknown[][];
}

/** BIGINT → number (flowseek's values stay below 2^53), LIST → number[]. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof DuckDBListValue) return v.items.map(plain);
  return v;
}

let instance: Promise<DuckDBInstance> | undefined;

export async function query(sql: string): Promise<Table> {
  instance ??= DuckDBInstance.create(':memory:');
  const connection = await (await instance).connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return {
      names: reader.columnNames(),
      types: reader.columnTypes().map(String),
      rows: reader.getRows().map((row) => row.map(plain)),
    };
  } finally {
    connection.closeSync();
  }
}

/** A path inside a SQL string literal. */
export const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
