/**
 * Where output bytes go: stdout, or a file that appears whole. A regular file is written under a
 * temporary name beside it and renamed when closed, so a reader never sees half a file; a path
 * that is not a regular file (/dev/null, a FIFO, /dev/stdout) is written directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputError } from '../errors';

export class Sink {
  /** True once the reader of stdout went away (e.g. `| head -1`): writes are dropped quietly. */
  readerGone = false;
  private stream: NodeJS.WritableStream;
  private failure?: Error;
  private readonly tempPath?: string;

  private constructor(public target: string | undefined, stream: NodeJS.WritableStream, tempPath?: string,
                      private readonly nextName?: () => string) {
    this.stream = stream;
    this.tempPath = tempPath;
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' && !target) this.readerGone = true;
      else this.failure = e;
    });
  }

  static stdout(): Sink {
    return new Sink(undefined, process.stdout);
  }

  /**
   * Opens the output now, so an unwritable path fails before any input is read. With `nextName`
   * an existing file is never replaced: the file is published under the next free name instead.
   */
  static file(target: string, nextName?: () => string): Sink {
    let direct = false;
    try {
      const st = fs.statSync(target);
      if (st.isDirectory()) throw new OutputError(`${target}: is a directory`);
      direct = !st.isFile();
    } catch (e) {
      if (e instanceof OutputError) throw e;
    }
    const temp = direct ? undefined : path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(temp ?? target, 'w');
    } catch (e) {
      throw new OutputError(`cannot write ${target}: ${describe(e)}`, { cause: e });
    }
    return new Sink(target, fs.createWriteStream('', { fd, highWaterMark: 1 << 20 }), temp, nextName);
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    if (this.failure) throw this.error(this.failure);
    if (this.readerGone) return;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => { this.stream.off('drain', done); this.stream.off('error', done); this.stream.off('close', done); resolve(); };
        this.stream.once('drain', done).once('error', done).once('close', done);
      });
      if (this.failure) throw this.error(this.failure);
    }
  }

  /** Flushes and, for a file, renames it into place. */
  async close(): Promise<void> {
    if (!this.target) {
      if (this.failure) throw this.error(this.failure);
      return;
    }
    await new Promise<void>((resolve) => {
      this.stream.once('finish', resolve).once('error', () => resolve());
      this.stream.end();
    });
    if (this.failure) {
      this.discard();
      throw this.error(this.failure);
    }
    if (this.tempPath) {
      try {
        this.publish(this.tempPath);
      } catch (e) {
        this.discard();
        throw new OutputError(`cannot write ${this.target}: ${describe(e)}`, { cause: e });
      }
    }
  }

  private publish(temp: string): void {
    if (!this.nextName) {
      fs.renameSync(temp, this.target as string);
      return;
    }
    // link() fails on an existing name where rename() would replace it
    for (;;) {
      try {
        fs.linkSync(temp, this.target as string);
        fs.unlinkSync(temp);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        this.target = this.nextName();
      }
    }
  }

  /** Drops a half-written file (error path): nothing is left under the final name. */
  discard(): void {
    if (!this.tempPath) return;
    try { (this.stream as fs.WriteStream).destroy(); } catch { /* already closed */ }
    try { fs.unlinkSync(this.tempPath); } catch { /* already gone */ }
  }

  private error(e: Error): OutputError {
    return new OutputError(`cannot write ${this.target ?? 'standard output'}: ${describe(e)}`, { cause: e });
  }
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return 'the folder does not exist';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOSPC': return 'no space left on the device';
    case 'EISDIR': return 'is a directory';
    case 'EROFS': return 'read-only file system';
    default: return err.message ?? String(e);
  }
}
