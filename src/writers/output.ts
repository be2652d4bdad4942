/**
 * Where finished flows go: one file (or stdout), files rotated by flow count or flow time
 * (`flows.0.csv`, `flows.1.csv`, …), or a Hive-style dataset folder partitioned by the flows' start
 * (`dt=2026-11-24/hour=13/part-0.parquet`), which keeps one schema (dataset-schema.ts). Every file is written under a temporary name and
 * appears whole when closed. Rotated files and dataset parts never replace a file already there:
 * their numbers go on after the highest one found, and a name taken meanwhile is skipped. With a
 * ring (--rotate-files N) the oldest rotated file of the run is deleted once N newer ones are out.
 * The columns are the first batch's (plugins add theirs as the first flows come out); a run with no
 * flow at all writes those given at construction.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputError } from '../errors';
import { OutputOptions } from '../options';
import { Field } from '../schema';
import { FlowBatch } from '../flow-batch';
import { checkDatasetSchema } from './dataset-schema';
import { PartWriter, partWriter } from './encoded';
import { createTemporary, describe, escapeRegExp, NAME_MAX, Sink, TEMP_TAIL } from './sink';
import { FlowWriter, WriterOptions } from './writer';
import { WRITERS } from './index';

const EXTENSION = { csv: '.csv', jsonl: '.jsonl', parquet: '.parquet', arrow: '.arrow' } as const;
/** dataset partitions open at once; flows arrive roughly in time order, so few are needed */
export const OPEN_PARTITIONS = 8;
/** published files named in an error line, at most */
const NAMED_FILES = 8;
/** digits a rotated file's number must have room for in its name (ten: 10^10 files) */
const NUMBER_DIGITS = 10;

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
  clockMs = 0;
  lastUsed = 0;
  /** a partition's: the first flow's start, which names the partition */
  startMs?: number;

  /** `open` gives the first name to try and, for numbered files, the next one when it is taken */
  constructor(readonly open: () => { target: string; nextName?: () => string }) {}
}

export class FlowOutput implements FlowWriter {
  /** final paths of the files closed so far (with a ring, deleted ones too) */
  readonly written: string[] = [];
  /** the ring's files still on disk, oldest first */
  private readonly ring: string[] = [];
  private readonly deleted = new Set<string>();
  private readonly rolls = new Map<string, Roll>();
  readonly writerOptions: WriterOptions;
  private readonly rotating: boolean;
  private readonly firstSeen: number;
  private readonly lastSeen: number;
  private tick = 0;
  /** the latest last-seen time of the flows written */
  private flowClockMs = 0;
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

  /** Whether closing would replace a file already there (one output file, not numbered ones). */
  replacesFile(): boolean {
    if (this.o.partition || this.rotating || this.o.output === undefined) return false;
    try {
      return fs.lstatSync(this.o.output).isFile();
    } catch {
      return false;
    }
  }

  /** Fails now, before any input is read, when the output cannot be written: the first file is
   * opened (its temporary created), or for a dataset a file is created in the folder and removed. */
  private prepare(): void {
    const out = this.o.output;
    if (out === undefined) {
      this.stdoutSink = Sink.stdout();
      this.openFile(this.roll(''), 0, this.stdoutSink);
    } else if (this.o.partition) {
      try {
        makeFolder(out);
        const probe = createTemporary(path.join(out, 'part'));
        fs.closeSync(probe.fd);
        fs.unlinkSync(probe.temp);
      } catch (e) {
        throw new OutputError(`cannot write the dataset folder ${out}: ${describe(e)}`, { cause: e });
      }
    } else {
      if (this.rotating) checkNumberedName(this.rotated());
      this.openFile(this.roll(''), 0);
    }
  }

  /** The rotated files' folder, and their names before and after the number. */
  private rotated(): { dir: string; prefix: string; suffix: string } {
    const out = this.o.output as string;
    return { dir: path.dirname(out), prefix: `${path.basename(out, path.extname(out))}.`, suffix: path.extname(out) || EXTENSION[this.o.format] };
  }

  private roll(key: string): Roll {
    let roll = this.rolls.get(key);
    if (roll) return roll;
    const out = this.o.output as string;
    if (this.o.partition) {
      roll = new Roll(() => {
        const dir = path.join(out, key);
        makeFolder(dir);
        return numbered(dir, 'part-', EXTENSION[this.o.format]);
      });
    } else if (this.rotating) {
      const { dir, prefix, suffix } = this.rotated();
      roll = new Roll(() => numbered(dir, prefix, suffix));
    } else {
      roll = new Roll(() => ({ target: out }));
    }
    this.rolls.set(key, roll);
    return roll;
  }

  private openFile(roll: Roll, startMs: number, sink?: Sink): OpenFile {
    if (!sink) {
      try {
        const { target, nextName } = roll.open();
        sink = Sink.file(target, nextName);
      } catch (e) {
        if (e instanceof OutputError) throw e;
        throw new OutputError(`cannot write ${this.o.output}: ${describe(e)}`, { cause: e });
      }
    }
    roll.file = { sink, flows: 0, startMs };
    return roll.file;
  }

  /** Whether lanes may make this output's bytes (partWriter): one file or standard output, neither
   * rotated nor partitioned, its columns the schema's. */
  get takesParts(): boolean {
    return !this.o.partition && !this.rotating && !this.columnsFixed;
  }

  /** The one file's writer of parts made on the lanes' threads (src/writers/encoded.ts). */
  partWriter(): PartWriter {
    const f = this.roll('').file as OpenFile;
    const parts = partWriter(this.o.format, this.fields, f.sink, this.writerOptions);
    this.columnsFixed = true;
    f.writer = { write: async () => { throw new Error('this file takes parts, not batches'); }, close: () => parts.close() };
    return parts;
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
      // a writer that failed before its sink's close (a Parquet footer): its temporary goes too
      this.drop(f.sink);
      throw e;
    }
    const target = f.sink.target;
    if (!target) return;
    this.written.push(target);
    if (this.o.rotateFiles && !this.o.partition) this.keepRing(target);
  }

  /** The ring: at most rotateFiles of this run's files on disk; files from before the run are never deleted. */
  private keepRing(published: string): void {
    this.ring.push(published);
    while (this.ring.length > (this.o.rotateFiles ?? 0)) {
      const oldest = this.ring.shift() as string;
      try {
        fs.unlinkSync(oldest);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new OutputError(`cannot delete ${oldest} (--rotate-files): ${describe(e)}`, { cause: e });
        }
      }
      this.deleted.add(oldest);
    }
  }

  async write(batch: FlowBatch): Promise<void> {
    try {
      await this.writeBatch(batch);
    } catch (e) {
      throw this.withPublished(e);
    }
  }

  private async writeBatch(batch: FlowBatch): Promise<void> {
    if (batch.length === 0) return;
    if (!this.columnsFixed) {
      this.fields = batch.fields;
      this.columnsFixed = true;
      // one schema per dataset folder: checked once the columns are known, before any file is opened
      if (this.o.partition) checkDatasetSchema(this.o.output as string, this.fields, this.o.format, this.o.partition);
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
      const roll = this.roll(key);
      roll.startMs ??= first[rows[0]];
      await this.writeRoll(roll, groups.size === 1 ? batch : batch.pick(rows));
      // after each partition, not each batch: a batch of flows from thousands of sparse hours held
      // a file (and a Parquet writer's buffers) open for every one of them, past the descriptors
      // a process may have (EMFILE) and a gigabyte of memory
      await this.limitOpenPartitions();
    }
    const last = batch.columns[this.lastSeen] as Float64Array;
    for (let r = 0; r < batch.length; r++) if (last[r] > this.flowClockMs) this.flowClockMs = last[r];
    await this.closeFinishedPartitions();
  }

  /**
   * A partition whose flows can no longer come (its end, plus the longest a flow begun in it may
   * last and then wait to be exported, has passed in flow time) is closed, so a long capture
   * publishes each hour soon after it ends rather than at the end of the run. A late flow would
   * only start another part of it.
   */
  private async closeFinishedPartitions(): Promise<void> {
    const after = this.o.partitionSettleMs;
    if (after === undefined || !this.o.partition) return;
    const span = this.o.partition === 'hour' ? 3_600_000 : 86_400_000;
    for (const [key, roll] of this.rolls) {
      if (!roll.file || roll.startMs === undefined) continue;
      const end = Math.floor(roll.startMs / span) * span + span;
      if (this.flowClockMs > end + after) {
        await this.closeFile(roll);
        this.rolls.delete(key);
      }
    }
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
      // the file opened before any flow (to fail early) starts at its first flow's time
      if (file && file.startMs === 0) file.startMs = roll.clockMs;
      const full = file && ((this.o.flowsPerFile > 0 && file.flows + (r - from) >= this.o.flowsPerFile) ||
        (this.o.rotateMs > 0 && roll.clockMs >= file.startMs + this.o.rotateMs));
      if (file && full) {
        if (r > from) await this.writer(file).write(batch.slice(from, r));
        file.flows += r - from;
        from = r;
        await this.closeFile(roll);
        file = undefined;
      }
      if (!file) this.openFile(roll, roll.clockMs);
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
    try {
      for (const roll of this.rolls.values()) await this.closeFile(roll);
    } catch (e) {
      throw this.withPublished(e);
    }
  }

  /** For a run that failed partway: its flows go beside the file an earlier run wrote at -o, which
   * stays as it was (a worker lost mid-run replaced a whole file with part of one). The name they
   * went to, or undefined when no file was there (closed as usual). */
  async closeBeside(): Promise<string | undefined> {
    if (!this.replacesFile()) { await this.close(); return undefined; }
    const out = this.o.output as string;
    const ext = path.extname(out);
    const beside = path.join(path.dirname(out), `${path.basename(out, ext)}.partial${ext}`);
    for (const roll of this.rolls.values()) if (roll.file) roll.file.sink.target = beside;
    await this.close();
    return beside;
  }

  /** What the open files have taken so far (it changes while the output moves). */
  get taken(): number {
    let n = this.written.length;
    for (const roll of this.rolls.values()) n += roll.file?.sink.taken ?? 0;
    return n;
  }

  /** Writes waiting on files that take nothing end, failing with e. */
  abort(e: Error): void {
    for (const roll of this.rolls.values()) if (roll.file?.sink.mayStall) roll.file.sink.abort(e);
  }

  /** Whether an open file is a pipe, a FIFO or a socket, which may take nothing (abort() ends its
   * write); a file's writes always end, however busy the writer is. */
  get mayStall(): boolean {
    for (const roll of this.rolls.values()) if (roll.file?.sink.mayStall) return true;
    return false;
  }

  /** half-written temporaries that could not be removed (the run names them) */
  readonly leftBehind: string[] = [];

  private drop(sink: Sink): void {
    sink.discard();
    if (sink.leftBehind && !this.leftBehind.includes(sink.leftBehind)) this.leftBehind.push(sink.leftBehind);
  }

  /** The error path: no half-written file is left, under a final name or a temporary one. */
  discard(): void {
    for (const roll of this.rolls.values()) {
      if (roll.file) this.drop(roll.file.sink);
      roll.file = undefined;
    }
  }

  /** An output error of several files says which ones are whole: those published before it. */
  private withPublished(e: unknown): unknown {
    if (!(e instanceof OutputError) || !(this.o.partition || this.rotating)) return e;
    const base = this.o.partition ? (this.o.output as string) : path.dirname(this.o.output as string);
    const whole = this.written.filter((f) => !this.deleted.has(f)).map((f) => path.relative(base, f));
    const named = whole.slice(0, NAMED_FILES).join(', ') + (whole.length > NAMED_FILES ? `, and ${whole.length - NAMED_FILES} more` : '');
    const where = this.o.partition ? ` in ${base}` : '';
    const said = whole.length === 0 ? 'no file was complete before it'
      : `${whole.length === 1 ? 'the 1 file' : `the ${whole.length} files`} published before it${where} ${whole.length === 1 ? 'is' : 'are'} whole: ${named}`;
    return new OutputError(`${e.message}; ${said}`, { cause: e });
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

/** mkdir -p, by hand: Node's recursive mkdir spins forever where mkdir says ENOENT under an
 * existing folder (/proc). */
function makeFolder(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (fs.statSync(dir).isDirectory()) return;
      throw new Error(`${dir} is a file, not a folder`, { cause: e });
    }
    if (code !== 'ENOENT' || path.dirname(dir) === dir) throw e;
    makeFolder(path.dirname(dir));
    fs.mkdirSync(dir);
  }
}

/** A rotated file's name grows with its number: one that could not reach ten digits is refused
 * before anything is read, not at a rotation in the middle of the run. */
function checkNumberedName(o: { dir: string; prefix: string; suffix: string }): void {
  const room = NAME_MAX - Buffer.byteLength(o.prefix + o.suffix);
  if (room < NUMBER_DIGITS) {
    const target = path.join(o.dir, `${o.prefix}0${o.suffix}`);
    throw new OutputError(`cannot write ${target}: the name is too long for numbered files (--flows-per-file, --rotate): ` +
      `at most ${room + Buffer.byteLength(o.prefix) - 1 - NUMBER_DIGITS} bytes before "${o.suffix}" leave room for the numbers`);
  }
}

/** `<prefix><n><suffix>` in dir, n one more than the largest there (published or being written),
 * and the names after it for when that one is taken before the file is published. */
function numbered(dir: string, prefix: string, suffix: string): { target: string; nextName: () => string } {
  let n = nextNumber(dir, prefix, suffix);
  return { target: path.join(dir, `${prefix}${n}${suffix}`), nextName: () => path.join(dir, `${prefix}${++n}${suffix}`) };
}

function nextNumber(dir: string, prefix: string, suffix: string): number {
  const name = new RegExp(`^\\.?${escapeRegExp(prefix)}(\\d+)${escapeRegExp(suffix)}(${TEMP_TAIL})?$`);
  let max = -1;
  for (const entry of fs.readdirSync(dir)) {
    const m = name.exec(entry);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}
