/**
 * The worst-case memory a run's options could need, from the native record sizes: open flows
 * (each meter holds up to --max-active-flows), the flows of a batch on their way out, and Parquet
 * row groups held until full. Options whose need passes this machine's memory are refused before
 * anything is opened, with the figure; the defaults never are (--max-active-flows is a bound the
 * meter enforces, sized to fit an ordinary machine).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { UsageError } from './errors';
import { loadNative } from './native';
import type { MeterOptions, OutputOptions } from './options';
import { fieldsFor } from './schema';
import { batchesAhead } from './workers/share';
import { OPEN_PARTITIONS } from './writers/output';
import { columnSpecs } from './writers/parquet/columns';
import { DEFAULT_ROW_GROUP_ROWS } from './writers/parquet/writer';

export interface MemoryOptions extends MeterOptions, OutputOptions {
  batchSize: number;
  workers: number;
}

/** one hash slot per open flow at half load, 16 bytes each (flow_table.c) */
const SLOT_BYTES = 2 * 16;
/** what malloc adds to each allocation, roughly */
const MALLOC_BYTES = 16;

interface Term {
  bytes: number;
  /** the flags that multiply it, then those that size each flow */
  count: string[];
}

/** Bytes of one open flow in a meter: its record, slot, detection state and optional arrays. */
function flowBytes(o: MemoryOptions): number {
  const native = loadNative();
  const extra = o.activityFeatures || o.payloadBytes > 0 || o.headerPackets > 0;
  return native.flowRecordBytes + (o.stats ? native.flowStatsBytes : 0) + SLOT_BYTES +
    (o.dissections > 0 ? native.ndpiFlowStateBytes + 2 * MALLOC_BYTES : 0) +
    (o.splt > 0 ? o.splt * (8 + 4 + 1) + MALLOC_BYTES : 0) +
    (extra ? native.flowExtraBytes + o.payloadBytes + o.headerPackets * o.headerWidth + MALLOC_BYTES : 0);
}

/** Bytes of one flow's output row, as the Parquet writer counts them. */
function rowBytes(o: MemoryOptions): number {
  return columnSpecs(fieldsFor(o), o.splt).reduce((n, s) => n + s.rowBytes, 0);
}

function terms(o: MemoryOptions, flagged: (flag: string) => string): Term[] {
  const perFlow = flowBytes(o);
  const row = rowBytes(o);
  const workers = o.workers > 1 ? [flagged('--workers')] : [];
  // lanes (read --workers) run ahead of the writer by a few batches each; counted for capture's
  // workers too, as a bound
  const batches = o.workers > 1 ? 1 + batchesAhead(o.batchSize) : 1;
  // a row group is held as compressed pages until written: at worst (nothing compresses) its rows' bytes
  const groupRows = o.rowGroupRows || DEFAULT_ROW_GROUP_ROWS;
  const openFiles = o.partition ? OPEN_PARTITIONS : 1;
  return [
    // --max-active-flows 0 leaves the meter unbounded: no figure to give for it
    { bytes: o.workers * o.maxActiveFlows * perFlow, count: [flagged('--max-active-flows'), ...workers] },
    { bytes: o.workers * batches * o.batchSize * (perFlow + row), count: [flagged('--batch-size'), ...workers] },
    { bytes: o.format === 'parquet' ? openFiles * groupRows * row : 0, count: [flagged('--row-group-size'), ...(o.partition ? ['--partition'] : [])] },
  ];
}

const total = (ts: Term[]) => ts.reduce((n, t) => n + t.bytes, 0);

/**
 * Refuses (a usage error) options that could need more memory than this machine has, unless the
 * same run with every memory option at its default would need as much (`defaults` is that run).
 */
/** What this process may use: the machine's memory, or less where a cgroup (memory.max) or ulimit -v
 * says so (a need checked against the machine alone ran into the limit: V8's fatal error and its
 * stack, or a library that would not map). */
export function memoryLimit(): { bytes: number; by: string } {
  let limit = { bytes: os.totalmem(), by: 'this machine has' };
  const cgroup = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  if (cgroup && cgroup < limit.bytes) limit = { bytes: cgroup, by: 'its cgroup allows (memory.max)' };
  try {
    const as = /^Max address space\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (as && Number(as[1]) < limit.bytes) limit = { bytes: Number(as[1]), by: 'this process may map (ulimit -v)' };
  } catch { /* no /proc: the machine's figure */ }
  return limit;
}

export function checkMemoryNeed(o: MemoryOptions, defaults: MemoryOptions, limit = memoryLimit()): void {
  const totalBytes = limit.bytes;
  const given: Record<string, string> = {
    '--max-active-flows': String(o.maxActiveFlows), '--workers': String(o.workers), '--batch-size': String(o.batchSize),
    '--row-group-size': String(o.rowGroupRows), '--payload-bytes': String(o.payloadBytes), '--header-bytes': String(o.headerPackets),
    '--header-width': String(o.headerWidth), '--splt': String(o.splt),
  };
  const atDefault: Record<string, boolean> = {
    '--max-active-flows': o.maxActiveFlows === defaults.maxActiveFlows, '--workers': o.workers === defaults.workers,
    '--batch-size': o.batchSize === defaults.batchSize, '--row-group-size': o.rowGroupRows === defaults.rowGroupRows,
  };
  const flagged = (flag: string) => `${flag} ${given[flag]}${atDefault[flag] ? ' (the default)' : ''}`;
  const mine = terms(o, flagged);
  const need = total(mine);
  if (need <= totalBytes || need <= total(terms(defaults, flagged))) return;
  const biggest = mine.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const sizing = [
    o.payloadBytes > 0 ? flagged('--payload-bytes') : '',
    o.headerPackets > 0 ? `${flagged('--header-bytes')} ${flagged('--header-width')}` : '',
    o.splt > 0 ? flagged('--splt') : '',
  ].filter(Boolean);
  const what = [biggest.count.join(' and '), ...sizing].join(' with ');
  throw new UsageError(`${what} could need ${bytes(need)} of memory; ${limit.by} ${bytes(totalBytes)}: lower one of them`);
}

/** Decimal units, as disks and memory are sold: 262 TB, 1.4 GB. */
export function bytes(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) { n /= 1000; u++; }
  return `${n < 10 && u > 0 ? n.toFixed(1) : Math.round(n)} ${units[u]}`;
}
