/** Command-line values to one typed, validated configuration. Nothing is opened here. */
import { UsageError } from './errors';

export type OutputFormat = 'csv' | 'jsonl';
export type AccountingMode = 0 | 1 | 2 | 3;
export const ACCOUNTING_NAMES = ['raw', 'ip', 'transport', 'payload'] as const;

export interface MeterOptions {
  idleTimeoutMs: number;
  activeTimeoutMs: number;
  accountingMode: AccountingMode;
  decodeTunnels: boolean;
  bpf?: string;
  snaplen: number;
  maxFlows: number;
  stats: boolean;
  splt: number;
  dissections: number;
}

export interface ReadOptions extends MeterOptions {
  files: string[];
  output?: string;
  format: OutputFormat;
  batchSize: number;
}

export const DEFAULTS = {
  idleTimeout: 120,
  activeTimeout: 1800,
  dissections: 20,
  accountingMode: 'raw',
  batchSize: 4096,
} as const;

/** What commander hands over for `read` (strings as typed, booleans for switches). */
export interface RawReadOptions {
  idleTimeout?: string;
  activeTimeout?: string;
  accountingMode?: string;
  decodeTunnels?: boolean;
  bpf?: string;
  snaplen?: string;
  maxFlows?: string;
  stats?: boolean;
  splt?: string;
  dissections?: string;
  output?: string;
  csv?: boolean;
  jsonl?: boolean;
  batchSize?: string;
}

function number(flag: string, value: string | undefined, fallback: number, what: string, min: number, max: number,
                integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n));
  if (!ok) throw new UsageError(`"${flag}" must be ${what}, got "${value}"`);
  return n;
}

export function parseAccountingMode(value: string | undefined): AccountingMode {
  const v = (value ?? DEFAULTS.accountingMode).toLowerCase();
  const byName = ACCOUNTING_NAMES.indexOf(v as (typeof ACCOUNTING_NAMES)[number]);
  if (byName >= 0) return byName as AccountingMode;
  if (/^[0-3]$/.test(v)) return Number(v) as AccountingMode;
  throw new UsageError(`"--accounting-mode" must be one of raw, ip, transport, payload (or 0-3), got "${value}"`);
}

export function formatFromPath(path: string): OutputFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  return undefined;
}

export function parseMeterOptions(raw: RawReadOptions): MeterOptions {
  const idle = number('--idle-timeout', raw.idleTimeout, DEFAULTS.idleTimeout, 'a non-negative number (seconds)', 0, 1e9, false);
  const active = number('--active-timeout', raw.activeTimeout, DEFAULTS.activeTimeout, 'a non-negative number (seconds)', 0, 1e9, false);
  return {
    idleTimeoutMs: Math.round(idle * 1000),
    activeTimeoutMs: Math.round(active * 1000),
    accountingMode: parseAccountingMode(raw.accountingMode),
    decodeTunnels: raw.decodeTunnels !== false,
    bpf: raw.bpf,
    snaplen: number('--snaplen', raw.snaplen, 0, 'a whole number of bytes from 0 (keep all) to 262144', 0, 262144, true),
    maxFlows: number('--max-flows', raw.maxFlows, 0, 'a positive whole number of flows', 1, Number.MAX_SAFE_INTEGER, true),
    stats: raw.stats === true,
    splt: number('--splt', raw.splt, 0, 'a whole number of packets from 1 to 255', 1, 255, true),
    dissections: number('--dissections', raw.dissections, DEFAULTS.dissections, 'a whole number of packets from 0 (off) to 255', 0, 255, true),
  };
}

export function parseReadOptions(files: string[], raw: RawReadOptions): ReadOptions {
  if (files.length === 0) throw new UsageError('read needs at least one capture file');
  if (raw.csv && raw.jsonl) throw new UsageError('"--csv" and "--jsonl" cannot be used together');
  let format: OutputFormat | undefined = raw.csv ? 'csv' : raw.jsonl ? 'jsonl' : undefined;
  if (raw.output !== undefined) {
    if (raw.output === '') throw new UsageError('"--output" needs a path');
    const fromPath = formatFromPath(raw.output);
    if (!format && !fromPath) {
      if (raw.output.toLowerCase().endsWith('.parquet')) {
        throw new UsageError('Parquet output is not available in this version: use .csv or .jsonl');
      }
      throw new UsageError(`cannot tell the format of "${raw.output}": name it .csv or .jsonl, or add --csv or --jsonl`);
    }
    format = format ?? fromPath;
  }
  return {
    ...parseMeterOptions(raw),
    files,
    output: raw.output,
    format: format ?? 'csv',
    batchSize: number('--batch-size', raw.batchSize, DEFAULTS.batchSize, 'a whole number of flows from 1 to 1048576', 1, 1 << 20, true),
  };
}
