/**
 * The plugin record stream (--predictions FILE): what plugins emit while the run goes on (the
 * model plugin's early predictions), one JSON line each, written by the main process as the
 * records arrive from the meter or the workers, so a reader can follow it with `tail -f`.
 * An existing file is never overwritten; each line is written whole.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputError } from '../errors';
import { describe } from '../writers/sink';

export class PluginRecordsFile {
  private fd: number | undefined;
  written = 0;

  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'wx', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EEXIST' ? 'the file exists (not overwritten)'
        : code === 'ENOENT' ? `the folder ${path.dirname(file)} does not exist` : describe(e);
      throw new OutputError(`cannot write the predictions to ${file}: ${why}`, { cause: e });
    }
  }

  write(records: readonly Record<string, unknown>[]): void {
    if (this.fd === undefined || !records.length) return;
    let text = '';
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    try {
      // every byte or an error: one write(2) may take part of them (a full disk, a file size limit)
      fs.writeFileSync(this.fd, text);
      this.written += records.length;
    } catch (e) {
      // called from a worker's message: the run's end reports it (close)
      this.failure = new OutputError(`cannot write the predictions to ${this.file}: ${describe(e)}`, { cause: e });
      this.closeFd();
    }
  }

  private failure: OutputError | undefined;

  private closeFd(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** The run failed before anything was written: no empty file is left behind. */
  discardIfEmpty(): void {
    this.closeFd();
    if (this.written === 0) fs.rmSync(this.file, { force: true });
  }

  /** Closes the file; a write that failed ends the run here. */
  close(): void {
    this.closeFd();
    if (this.failure) throw this.failure;
  }
}

/** The stream the plugins' options ask for (model.predictions), opened; or none. */
export function openPluginRecords(plugins: readonly { options: Record<string, unknown> }[] | undefined): PluginRecordsFile | undefined {
  const file = plugins?.map((p) => p.options['model.predictions'] ?? p.options.predictions).find((v): v is string => typeof v === 'string' && v !== '');
  return file ? new PluginRecordsFile(file) : undefined;
}

/** Runs the run with the stream open, then closes it (removed if the run failed before any record). */
export async function withPluginRecords<T>(records: PluginRecordsFile | undefined, run: () => Promise<T>): Promise<T> {
  let ok = false;
  try {
    const out = await run();
    ok = true;
    return out;
  } finally {
    if (!ok) records?.discardIfEmpty();
    records?.close();
  }
}
