/**
 * A dataset folder keeps one schema. The first run that writes flows into it records its format and
 * columns in _flowseek_schema.json (a name Spark, pyarrow and polars skip, as they skip _SUCCESS);
 * a later run with other columns is refused, with what differs, before it writes a file there:
 * mixed schemas make polars fail and pandas drop columns.
 */
import { createTemporary, describe as describeError } from './sink';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputError } from '../errors';
import { OutputFormat, Partition } from '../options';
import { Field } from '../schema';
import { timeTwins } from './parquet/columns';

export const SCHEMA_FILE = '_flowseek_schema.json';

interface DatasetSchema {
  format: OutputFormat;
  /** the folders' layout (dt=…/ or dt=…/hour=…/); absent in schemas of older runs, then not checked */
  partition?: Partition;
  columns: { name: string; type: string }[];
}

function typeName(f: Field): string {
  if (f.type === 'bytes') return `bytes[${f.width ?? 1}]`;
  if (f.type === 'list<bytes>') return `list<bytes[${f.width ?? 1}]>`;
  return f.type;
}

function describe(fields: readonly Field[], format: OutputFormat, partition: Partition): DatasetSchema {
  const columns = fields.map((f) => ({ name: f.name, type: typeName(f) }));
  // Parquet and Arrow add the time twins, whose unit follows --time-precision
  if (format === 'parquet' || format === 'arrow') {
    for (const t of timeTwins(fields)) columns.push({ name: t.name, type: `timestamp[${t.unit}]` });
  }
  return { format, partition, columns };
}

function list(names: string[]): string {
  return names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
}

/** What differs from the dataset's schema, in words; empty when nothing does. */
function differences(have: DatasetSchema, want: DatasetSchema): string[] {
  const out: string[] = [];
  if (have.format !== want.format) out.push(`it holds ${have.format} files, this run writes ${want.format}`);
  // dt=X/part-0 beside dt=X/hour=8/part-0: Hive readers would count those flows twice
  if (have.partition && have.partition !== want.partition) {
    out.push(`it is partitioned by ${have.partition}, this run by ${want.partition}`);
  }
  const old = new Map(have.columns.map((c) => [c.name, c.type]));
  const now = new Map(want.columns.map((c) => [c.name, c.type]));
  const added = want.columns.filter((c) => !old.has(c.name)).map((c) => c.name);
  const missing = have.columns.filter((c) => !now.has(c.name)).map((c) => c.name);
  const retyped = want.columns.filter((c) => old.has(c.name) && old.get(c.name) !== c.type)
    .map((c) => `${c.name} (${old.get(c.name)} there, ${c.type} here)`);
  if (added.length) out.push(`this run adds ${list(added)}`);
  if (missing.length) out.push(`this run lacks ${list(missing)}`);
  if (retyped.length) out.push(`other types: ${list(retyped)}`);
  if (!out.length && have.columns.map((c) => c.name).join() !== want.columns.map((c) => c.name).join()) {
    out.push('the same columns in another order');
  }
  return out;
}

function read(file: string): DatasetSchema | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OutputError(`cannot read ${file}: ${describeError(e)}`, { cause: e });
  }
  try {
    const s = JSON.parse(text) as DatasetSchema;
    if (typeof s.format === 'string' && Array.isArray(s.columns)) return s;
  } catch { /* reported below */ }
  throw new OutputError(`${file} is not a flowseek dataset schema: move it away or write to another folder`);
}

/**
 * Records the schema of a dataset folder, or checks this run against the one recorded: an
 * OutputError saying what differs when they do not match. Two runs starting together: the file is
 * published with link(), which never replaces, so the second one checks against the first.
 */
export function checkDatasetSchema(dir: string, fields: readonly Field[], format: OutputFormat, partition: Partition): void {
  const file = path.join(dir, SCHEMA_FILE);
  const want = describe(fields, format, partition);
  let have = read(file);
  if (!have) {
    try {
      // created exclusively under a random name, as every output file (never through a symlink)
      const { fd, temp } = createTemporary(file);
      try {
        try {
          // every byte or an error (one write(2) may take part of them: a full disk), on the disk
          // before the name appears
          fs.writeFileSync(fd, `${JSON.stringify(want, null, 1)}\n`);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fs.linkSync(temp, file);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        // published under its name by the link, or failed: either way the temporary goes
        fs.rmSync(temp, { force: true });
      }
    } catch (e) {
      throw new OutputError(`cannot write ${file}: ${describeError(e)}`, { cause: e });
    }
    // another run published it first; removed again meanwhile, there is nothing to check against
    have = read(file);
    if (!have) throw new OutputError(`${file} was removed while this run was checking it: run again`);
  }
  const diff = differences(have, want);
  if (diff.length) {
    throw new OutputError(`the dataset ${dir} does not match this run: ${diff.join('; ')}. ` +
      'Write to another folder, or use the options of the runs that made it');
  }
}
