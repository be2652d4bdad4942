/**
 * Where finished flows go: one file (or stdout), files rotated by flow count or flow time
 * (`flows.0.csv`, `flows.1.csv`, …), or a Hive-style dataset folder partitioned by the flows' start
 * (`dt=2026-11-24/hour=13/part-0.parquet`), which keeps one schema (dataset-schema.ts). Every file is written under a temporary name and
 * appears whole when closed; a dataset never replaces a file already there. The columns are the
 * first batch's (plugins add theirs as the first flows come out); a run with no flow at all writes
 * those given at construction.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputError } from '../errors';
import { OutputOptions } from '../options';
import { Field } from '../schema';
import { FlowBatch } from '../streamer';
import { checkDatasetSchema } from './dataset-schema';
import { Sink } from './sink';
import { FlowWriter, WriterOptions } from './writer';
import { WRITERS } from './index';

const EXTENSION = { csv: '.csv', jsonl: '.jsonl', parquet: '.parquet', arrow: '.arrow' } as const;
/** dataset partitions open at once; flows arrive roughly in time order, so few are needed */
const OPEN_PARTITIONS = 8;

interface OpenFile {
  /** made at the file's first write or close, with the columns known by then */
  writer?: FlowWriter;
  sink: Sink;
  flows: number;
  startMs: number;
}

/** One stream of files: a partition folder, or the rotated -o path. */
class Roll {
  file?: OpenFile;
  index = 0;
  clockMs = 0;
  lastUsed = 0;

  constructor(readonly name: (index: number) => { target: string; nextName?: () => string }) {}
}

export class FlowOutput implements FlowWriter {
  /** final paths of the files closed so far */
  readonly written: string[] = [];
  private readonly rolls = new Map<string, Roll>();
  private readonly writerOptions: WriterOptions;
  private readonly rotating: boolean;
  private readonly firstSeen: number;
  private readonly lastSeen: number;
  private tick = 0;
  private stdoutSink?: Sink;
  private columnsFixed = false;

  constructor(private fields: readonly Field[], private readonly o: OutputOptions, listLength: number) {
    this.writerOptions = { compression: o.compression, listLength, rowGroupRows: o.rowGroupRows || undefined };
    this.rotating = o.flowsPerFile > 0 || o.rotateMs > 0;
    // schema columns: plugins only add theirs after these
    this.firstSeen = fields.findIndex((f) => f.name === 'bidirectional_first_seen_ms');
    this.lastSeen = fields.findIndex((f) => f.name === 'bidirectional_last_seen_ms');
    this.prepare();
  }

  /** readerGone: stdout's reader left (| head); the run can stop quietly. */
  get readerGone(): boolean {
    return this.stdoutSink?.readerGone ?? false;
  }

  /** Fails now, before any input is read, when the output cannot be written. */
  private prepare(): void {
    const out = this.o.output;
    if (out === undefined) {
      this.stdoutSink = Sink.stdout();
      this.open(this.roll(''), 0, this.stdoutSink);
    } else if (this.o.partition) {
      try {
        fs.mkdirSync(out, { recursive: true });
        fs.accessSync(out, fs.constants.W_OK);
      } catch (e) {
        throw new OutputError(`cannot write the dataset folder ${out}: ${(e as Error).message}`, { cause: e });
      }
    } else if (this.rotating) {
      const dir = path.dirname(out);
      try {
        fs.accessSync(dir, fs.constants.W_OK);
      } catch (e) {
        throw new OutputError(`cannot write in ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the folder does not exist' : 'permission denied'}`, { cause: e });
      }
    } else {
      this.open(this.roll(''), 0);
    }
  }

  private roll(key: string): Roll {
    let roll = this.rolls.get(key);
    if (roll) return roll;
    const out = this.o.output as string;
    const ext = EXTENSION[this.o.format];
    if (this.o.partition) {
      const dir = path.join(out, key);
      const next = () => path.join(dir, `part-${nextPartNumber(dir)}${ext}`);
      roll = new Roll(() => {
        fs.mkdirSync(dir, { recursive: true });
        return { target: next(), nextName: next };
      });
    } else if (this.rotating) {
      const base = out.slice(0, out.length - path.extname(out).length);
      const suffix = path.extname(out) || ext;
      roll = new Roll((i) => ({ target: `${base}.${i}${suffix}` }));
    } else {
      roll = new Roll(() => ({ target: out }));
    }
    this.rolls.set(key, roll);
    return roll;
  }

  private open(roll: Roll, startMs: number, sink?: Sink): OpenFile {
    if (!sink) {
      const { target, nextName } = roll.name(roll.index++);
      sink = Sink.file(target, nextName);
    }
    roll.file = { sink, flows: 0, startMs };
    return roll.file;
  }

  private writer(f: OpenFile): FlowWriter {
    return (f.writer ??= WRITERS[this.o.format](this.fields, f.sink, this.writerOptions));
  }

  private async closeFile(roll: Roll): Promise<void> {
    const f = roll.file;
    if (!f) return;
    roll.file = undefined;
    try {
      await this.writer(f).close();
    } catch (e) {
      f.sink.discard(); // out of discard()'s reach now: a failed footer must not leave the temporary file
      throw e;
    }
    if (f.sink.target) this.written.push(f.sink.target);
  }

  async write(batch: FlowBatch): Promise<void> {
    if (batch.length === 0) return;
    if (!this.columnsFixed) {
      this.fields = batch.fields;
      this.columnsFixed = true;
      // one schema per dataset folder: checked once the columns are known, before any file is opened
      if (this.o.partition) checkDatasetSchema(this.o.output as string, this.fields, this.o.format);
    }
    if (!this.o.partition) return this.writeRoll(this.roll(''), batch);
    const groups = new Map<string, number[]>();
    const first = batch.columns[this.firstSeen] as Float64Array;
    for (let r = 0; r < batch.length; r++) {
      const key = partitionKey(first[r], this.o.partition);
      const rows = groups.get(key);
      if (rows) rows.push(r); else groups.set(key, [r]);
    }
    for (const [key, rows] of groups) {
      await this.writeRoll(this.roll(key), groups.size === 1 ? batch : batch.pick(rows));
    }
    await this.limitOpenPartitions();
  }

  /** Writes a batch to a roll's files, starting a new file where the count or time limit says. */
  private async writeRoll(roll: Roll, batch: FlowBatch): Promise<void> {
    roll.lastUsed = ++this.tick;
    if (!this.rotating && roll.file) {
      await this.writer(roll.file).write(batch);
      roll.file.flows += batch.length;
      return;
    }
    const last = batch.columns[this.lastSeen] as Float64Array;
    let from = 0;
    for (let r = 0; r < batch.length; r++) {
      roll.clockMs = Math.max(roll.clockMs, last[r]);
      let file = roll.file;
      const full = file && ((this.o.flowsPerFile > 0 && file.flows + (r - from) >= this.o.flowsPerFile) ||
        (this.o.rotateMs > 0 && roll.clockMs >= file.startMs + this.o.rotateMs));
      if (file && full) {
        if (r > from) await this.writer(file).write(batch.slice(from, r));
        file.flows += r - from;
        from = r;
        await this.closeFile(roll);
        file = undefined;
      }
      if (!file) this.open(roll, roll.clockMs);
      else if (file.startMs === 0) file.startMs = roll.clockMs;
    }
    const file = roll.file as OpenFile;
    if (batch.length > from) await this.writer(file).write(batch.slice(from, batch.length));
    file.flows += batch.length - from;
  }

  private async limitOpenPartitions(): Promise<void> {
    const open = [...this.rolls.values()].filter((r) => r.file);
    if (open.length <= OPEN_PARTITIONS) return;
    open.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const roll of open.slice(0, open.length - OPEN_PARTITIONS)) await this.closeFile(roll);
  }

  async close(): Promise<void> {
    // rotated output with no flow at all still gets its first file (a header, a schema)
    if (this.rotating && !this.o.partition && this.rolls.size === 0) this.open(this.roll(''), 0);
    for (const roll of this.rolls.values()) await this.closeFile(roll);
  }

  /** The error path: no half-written file is left under a final name. */
  discard(): void {
    for (const roll of this.rolls.values()) {
      roll.file?.sink.discard();
      roll.file = undefined;
    }
  }
}

/** Hive's name for a partition whose value is missing: here a time outside what a date can hold. */
const NO_TIME = '__HIVE_DEFAULT_PARTITION__';

function partitionKey(ms: number, by: 'hour' | 'day'): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  // Hive's default partition for a time no date can hold (a garbage timestamp in a capture)
  if (!(year >= 0 && year <= 9999)) return by === 'day' ? `dt=${NO_TIME}` : `dt=${NO_TIME}/hour=${NO_TIME}`;
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `dt=${String(year).padStart(4, '0')}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}`;
  // the hour unpadded: DuckDB, pyarrow and polars read hour=3 as a number, hour=03 as text
  return by === 'day' ? day : `${day}/hour=${date.getUTCHours()}`;
}

/** One more than the largest part-<n> already in the folder (published or being written). */
function nextPartNumber(dir: string): number {
  let max = -1;
  for (const name of fs.readdirSync(dir)) {
    const m = /^\.?part-(\d+)\./.exec(name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}
