/**
 * Where output bytes go: stdout, or a file that appears whole. A file is written under a temporary
 * name beside it, created exclusively (O_EXCL|O_NOFOLLOW, an unguessable name), flushed to disk and
 * renamed into place when closed: a reader never sees half a file, and a symlink planted at either
 * name is replaced, never written through. A FIFO or device (/dev/null) is written directly, and so
 * is a descriptor of this process named as a path (/dev/stdout, /dev/fd/N). A file that replaces
 * a regular file keeps its mode and, where this process may give it, its owner: flows an operator
 * made private stay private.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tty from 'node:tty';
import { OutputError } from '../errors';
import { systemErrorWords } from '../system-errors';
import { loadNative } from '../native';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND, O_NONBLOCK } = fs.constants;
/** bytes written to a file before the kernel is asked to start writing them out (see startWriteback) */
const WRITEBACK_BYTES = 8 << 20;
/** this process's own descriptors: written where the shell pointed them, never replaced */
export const DESCRIPTOR = /^\/(dev\/(stdout|stderr|fd\/\d+)|proc\/self\/fd\/\d+)$/;

export class Sink {
  /** files being written under a temporary name: removed by discardAll() */
  private static readonly unfinished = new Set<Sink>();

  /** Every file still being written is dropped, its temporary removed: for a process that ends
   * without its run having finished (bin/flowseek). */
  static discardAll(): void {
    for (const s of Sink.unfinished) s.discard();
  }

  /** how write-out is asked for (replaced by tests that watch it) */
  static startWriteback = (fd: number, offset: number, length: number): Promise<void> => loadNative().startWriteback(fd, offset, length);
  /** True once the reader of stdout went away (e.g. `| head -1`): writes are dropped quietly. */
  readerGone = false;
  private stream: NodeJS.WritableStream;
  private failure?: Error;
  private fdOpen: boolean;
  /** the file's bytes written so far, and those whose write-out to the disk was started */
  private written = 0;
  private writtenOut = 0;
  private writeback?: Promise<void>;
  private noWriteback = false;

  private constructor(public target: string | undefined, stream: NodeJS.WritableStream, private readonly fd?: number,
                      private readonly tempPath?: string, private readonly nextName?: () => string,
                      /** a pipe's stream of our own (pipeStream): ended and let go here */
                      private readonly pipe = false,
                      /** standard output's file stream of our own: ended here, its descriptor left open */
                      private readonly ownStdout = false) {
    this.stream = stream;
    this.fdOpen = fd !== undefined;
    if (tempPath) Sink.unfinished.add(this);
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' && !target) this.readerGone = true;
      else this.failure ??= e; // the first says why: a write after an abort fails too
    });
  }

  static stdout(): Sink {
    if (closedAtStart(1)) {
      throw new OutputError('cannot write standard output: it was closed when flowseek started (Node put /dev/null in its place); ' +
        'give -o FILE, or send it to /dev/null to discard the flows');
    }
    if (isPipe(1)) return new Sink(undefined, pipeStream(1), undefined, undefined, undefined, true);
    // a terminal keeps Node's stream; a file or device gets one of our own: Node's standard output
    // writes a file once per chunk and drops what a short write left (a disk filling up took 20 kB
    // of 90 kB, and the run exited 0)
    if (tty.isatty(1)) return new Sink(undefined, process.stdout);
    return new Sink(undefined, fs.createWriteStream('', { fd: 1, autoClose: false, highWaterMark: 1 << 20 }), undefined, undefined, undefined,
      false, true);
  }

  /**
   * Opens the output now, so an unwritable path fails before any input is read. With `nextName`
   * an existing file is never replaced: the file is published under the next free name instead.
   */
  static file(target: string, nextName?: () => string): Sink {
    const direct = writtenDirectly(target);
    let fd: number;
    let temp: string | undefined;
    try {
      if (direct) {
        fd = openDirect(target);
        if (isPipe(fd)) return new Sink(target, pipeStream(fd), undefined, undefined, nextName, true);
      } else {
        // numbered files (nextName) are new files: one found at their name is skipped, never replaced
        ({ fd, temp } = createTemporary(target, nextName ? undefined : replacedFile(target)));
      }
    } catch (e) {
      if (e instanceof OutputError) throw e;
      throw new OutputError(`cannot write ${target}: ${describe(e)}`, { cause: e });
    }
    const stream = fs.createWriteStream('', { fd, autoClose: false, highWaterMark: 1 << 20 });
    return new Sink(target, stream, fd, temp, nextName);
  }

  /** written: called once the chunk has left for the file (or will never go), so its memory can be
   * given back at once rather than when the garbage collector next runs */
  async write(chunk: string | Uint8Array, written?: () => void): Promise<void> {
    if (this.failure) { written?.(); throw this.error(this.failure); }
    if (this.readerGone) { written?.(); return; }
    const done = this.tempPath ? this.counted(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength, written) : written;
    if (!this.stream.write(chunk, done)) {
      await new Promise<void>((resolve) => {
        const done = () => { this.stream.off('drain', done); this.stream.off('error', done); this.stream.off('close', done); resolve(); };
        this.stream.once('drain', done).once('error', done).once('close', done);
      });
      if (this.failure) throw this.error(this.failure);
    }
  }

  /** The write's callback, which also counts the bytes the file holds (chunks are written in order)
   * and starts their write-out every WRITEBACK_BYTES: the sync before the rename then waits only for
   * the tail, not for every byte of the run (seconds for gigabytes on a slow disk). */
  private counted(bytes: number, written?: () => void): (e?: Error | null) => void {
    return (e) => {
      if (!e) this.written += bytes;
      if (!this.writeback && !this.noWriteback && this.written - this.writtenOut >= WRITEBACK_BYTES) {
        const from = this.writtenOut;
        this.writtenOut = this.written;
        // a file system that cannot (ENOSYS, EINVAL) is asked no more: its sync does it all
        try {
          this.writeback = Sink.startWriteback(this.fd as number, from, this.written - from)
            .catch(() => { this.noWriteback = true; })
            .finally(() => { this.writeback = undefined; });
        } catch {
          this.noWriteback = true; // never thrown into the stream's callback
        }
      }
      written?.();
    };
  }

  /** Flushes and, for a file, syncs it to disk and renames it into place. */
  async close(): Promise<void> {
    if (this.pipe) {
      // what the pipe's reader has not taken yet is flushed before the process may exit (a pipe
      // whose reader left is closed already, and ends no more)
      const socket = this.stream as net.Socket;
      if (!socket.destroyed) {
        await new Promise<void>((resolve) => {
          socket.once('finish', resolve).once('error', () => resolve()).once('close', () => resolve());
          socket.end();
        });
      }
      socket.destroy();
      if (this.failure && !this.readerGone) throw this.error(this.failure);
      return;
    }
    if (!this.target) {
      if (this.ownStdout && !this.failure) await this.ended();
      if (this.failure) throw this.error(this.failure);
      return;
    }
    if (!this.failure) await this.ended();
    if (this.failure) {
      const failure = this.failure;
      this.discard();
      throw this.error(failure);
    }
    await this.writeback; // its descriptor stays open until it is done
    let whole = false;
    try {
      // a published name must hold every byte, even after a crash: synced before the rename
      if (this.tempPath) fs.fsyncSync(this.fd as number);
      this.closeFd();
      whole = true;
      if (this.tempPath) this.publish(this.tempPath);
      Sink.unfinished.delete(this);
    } catch (e) {
      if (whole && this.tempPath) throw this.keptWhole(e, this.tempPath);
      this.discard();
      throw new OutputError(`cannot write ${this.target}: ${describe(e)}`, { cause: e });
    }
  }

  /** A temporary that holds every byte and could not be given its name (its folder made read-only,
   * a folder made at the name): it is the only copy of the run's flows, so it stays, and is named,
   * where it was removed (or, itself unremovable, called half-written). */
  private keptWhole(e: unknown, temp: string): OutputError {
    Sink.unfinished.delete(this);
    this.kept = true;
    return new OutputError(`cannot write ${this.target}: ${describe(e)}; what it holds is whole in ${temp}, which could not be given its name: rename it`,
      { cause: e });
  }

  /** a whole temporary that could not be renamed (keptWhole): discard() leaves it */
  private kept = false;

  /** The stream ended, every write done or failed (a failure is then in this.failure). Never for a
   * stream that failed already: it sends neither 'finish' nor 'error' again, so nothing kept the
   * wait alive, and Node ended the process with exit 0 and not a word. */
  private ended(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.stream.once('finish', resolve).once('error', () => resolve()).once('close', () => resolve());
      this.stream.end();
    });
  }

  private publish(temp: string): void {
    if (!this.nextName) {
      fs.renameSync(temp, this.target as string);
      return;
    }
    for (;;) {
      if (claim(temp, this.target as string)) return;
      this.target = this.nextName();
    }
  }

  /** Bytes the output has taken so far: whether a run's output moves at all while a write waits. */
  get taken(): number {
    return (this.stream as { bytesWritten?: number }).bytesWritten ?? 0;
  }

  /** A pipe, a FIFO or a socket: its reader may take nothing, and a write then waits for ever (a
   * file's write always ends). */
  get mayStall(): boolean {
    return this.pipe;
  }

  /** A write that waits on an output taking nothing (a pipe nobody reads) ends, failing with e. */
  abort(e: Error): void {
    this.failure ??= e;
    (this.stream as NodeJS.WritableStream & { destroy?: () => void }).destroy?.();
  }

  /** the temporary that discard() could not remove (its folder made read-only meanwhile), and why */
  leftBehind?: string;

  /** Drops a half-written file (error path): nothing is left under the final name nor the temporary one. */
  discard(): void {
    Sink.unfinished.delete(this);
    if (this.pipe) (this.stream as net.Socket).destroy();
    if (this.fd === undefined) return;
    if (this.fdOpen) {
      // the stream closes the descriptor once a write in flight is done: closing it here could
      // close a number reused meanwhile (a write-out request in flight on the number is harmless:
      // it only starts writing out pages already dirty)
      this.fdOpen = false;
      (this.stream as fs.WriteStream).destroy();
    }
    if (this.tempPath && !this.kept) {
      try {
        fs.unlinkSync(this.tempPath);
      } catch (e) {
        // gone already, or published; otherwise it stays, and is named
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.leftBehind = `${this.tempPath} (${describe(e)})`;
      }
    }
  }

  private closeFd(): void {
    if (!this.fdOpen) return;
    this.fdOpen = false;
    fs.closeSync(this.fd as number);
  }

  private error(e: Error): OutputError {
    return new OutputError(`cannot write ${this.target ?? 'standard output'}: ${describe(e)}`, { cause: e });
  }
}

/** Whether descriptor fd is a pipe, a FIFO or a socket (a parent's stdio, as Node makes it). */
function isPipe(fd: number): boolean {
  try {
    const st = fs.fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/** A pipe written without blocking (libuv's pipe, not a file stream): a write to a pipe nobody
 * reads held a thread of the pool in write(2), and standard output's held this thread itself, so
 * no stop could end the run; this one waits for 'drain' and can be torn down. */
function pipeStream(fd: number): net.Socket {
  return new net.Socket({ fd, readable: false, writable: true });
}

/** A FIFO, a device or one of this process's descriptors; not a regular file, a symlink or nothing. */
function writtenDirectly(target: string): boolean {
  if (DESCRIPTOR.test(target)) return true;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return false;
  }
  if (st.isDirectory() || (st.isSymbolicLink() && isDirectory(target))) throw new OutputError(`${target}: is a directory`);
  return !st.isFile() && !st.isSymbolicLink();
}

function isDirectory(p: string): boolean {
  try { return fs.statSync(p).isDirectory(); } catch { return false; }
}

/** Output FIFOs whose reader was waited for (waitForReader): their descriptors, for the Sink that writes them. */
const readyFifos = new Map<string, number>();

/** An output FIFO that nobody reads yet is waited for here, a look every 100 ms, instead of in
 * open(2): that held this thread, and so every signal, until a reader came (SIGTERM did nothing,
 * only SIGKILL ended the run). False when `stopped` says so before a reader comes. */
export async function waitForReader(target: string, stopped: () => boolean): Promise<boolean> {
  if (DESCRIPTOR.test(target)) return true;
  try {
    if (!fs.lstatSync(target).isFIFO()) return true;
  } catch {
    return true; // the open says why
  }
  for (;;) {
    try {
      readyFifos.set(target, fs.openSync(target, O_WRONLY | O_NONBLOCK | O_NOFOLLOW));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') return true; // no reader is ENXIO; the rest the open says
    }
    if (stopped()) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Neither created nor truncated: a FIFO or device as it is; a descriptor appended to (the shell
 * already truncated it for `>`, and `>>` must stay an append). */
function openDirect(target: string): number {
  const waited = readyFifos.get(target);
  if (waited !== undefined) { readyFifos.delete(target); return waited; }
  if (DESCRIPTOR.test(target)) {
    const n = givenDescriptor(target);
    // a socket (a parent's stdio, systemd's StandardOutput=socket) cannot be opened again through
    // /proc (ENXIO): it is written as it was given
    if (fs.fstatSync(n).isSocket()) return n;
    return fs.openSync(target, O_WRONLY | O_APPEND);
  }
  const fd = fs.openSync(target, O_WRONLY | O_NOFOLLOW);
  if (fs.fstatSync(fd).isFile()) {
    // swapped for a regular file since it was looked at: that one is not ours to overwrite
    fs.closeSync(fd);
    throw new OutputError(`cannot write ${target}: it changed while being opened`);
  }
  return fd;
}

/** N of /dev/fd/N or /proc/self/fd/N, checked to be a descriptor the caller opened (`5>file`). Node marks
 * inherited descriptors close-on-exec as it starts, so what is the caller's cannot be told from
 * its flags; what is Node's own can: its event descriptors (anon_inode:[eventfd], [eventpoll])
 * and its wake-up pipes, which this process also reads. Written to, a wake-up pipe took the
 * flows (exit 0) or crashed the exit (SIGSEGV). */
function givenDescriptor(target: string): number {
  const n = Number(/(\d+)$/.exec(target)?.[1] ?? (target.endsWith('stderr') ? 2 : 1));
  let what: string;
  try {
    what = fs.readlinkSync(`/proc/self/fd/${n}`);
  } catch {
    throw new OutputError(`cannot write ${target}: descriptor ${n} is not open (open it for flowseek in the shell: ${n}>FILE)`);
  }
  if (n === 1 && closedAtStart(1)) throw new OutputError(`cannot write ${target}: standard output was closed when flowseek started (Node put /dev/null in its place)`);
  // standard input, output and error are the caller's, whatever they are
  const own = n > 2 && (what.startsWith('anon_inode:') || (what.startsWith('pipe:') && readHere(what)));
  if (own) throw new OutputError(`cannot write ${target}: descriptor ${n} is not one given to flowseek but the runtime's own (${what}); open it in the shell: ${n}>FILE`);
  // given for reading (5<capture.pcap): opening it again for writing appended the flows to it
  if (accessMode(n) === 0) throw new OutputError(`cannot write ${target}: descriptor ${n} was given for reading (${what}), not writing`);
  return n;
}

/** Whether the caller closed standard descriptor n (`>&-`): Node opens /dev/null for reading and
 * writing in its place, where a shell's `>/dev/null` opens it for writing. The flows went there,
 * exit 0. */
function closedAtStart(n: number): boolean {
  try {
    return fs.readlinkSync(`/proc/self/fd/${n}`) === '/dev/null' && accessMode(n) === 2;
  } catch {
    return false;
  }
}

/** O_RDONLY (0), O_WRONLY (1) or O_RDWR (2) of descriptor n, from /proc/self/fdinfo; -1 unknown. */
function accessMode(n: number): number {
  try {
    const flags = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${n}`, 'utf8'))?.[1];
    return flags === undefined ? -1 : parseInt(flags, 8) & 3;
  } catch {
    return -1;
  }
}

/** Whether one of this process's descriptors (the one named too) reads the pipe `link`
 * (/proc/self/fd's name for it). */
function readHere(link: string): boolean {
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${name}`) === link && accessMode(Number(name)) === 0) return true;
    } catch {
      // closed meanwhile (the readdir's own descriptor among them)
    }
  }
  return false;
}

/** The longest file name (bytes) of Linux's usual file systems (ext4, XFS, Btrfs, tmpfs). */
export const NAME_MAX = 255;

/** A temporary's random part, in bytes (twice as many hex digits in its name). */
const TEMP_RANDOM_BYTES = 8;
/** How every temporary's name ends, after `.<name>`, as a pattern: the names of earlier runs'
 * temporaries are recognised by it (leftTemporaries, and output.ts when it numbers files). */
export const TEMP_TAIL = `\\.[0-9a-f]{${TEMP_RANDOM_BYTES * 2}}\\.tmp`;

/** What a replaced file passes on (its fs.Stats fits): a type of its own, so that this module's
 * declarations, part of the API's, need no Node types (test/76). */
export interface ReplacedFile { mode: number; uid: number; gid: number }

/** `.<name>.<random>.tmp` beside the target, created exclusively; its mode is 0666 less the umask,
 * or, given the file it will replace (`replaced`), that file's mode and owner (likeReplaced).
 * A target whose name cannot be is refused here, before anything is read; one whose name is close
 * to the limit gets a temporary of its name cut short (the temporary's longer name was refused,
 * and a name the file system allows could not be written). */
export function createTemporary(target: string, replaced?: ReplacedFile): { fd: number; temp: string } {
  const name = path.basename(target);
  if (Buffer.byteLength(name) > NAME_MAX) throw Object.assign(new Error(`name too long: ${name}`), { code: 'ENAMETOOLONG' });
  // the replaced file's bits from the start, the umask only narrowing them: never a moment wider
  const mode = replaced ? permissionBits(replaced) : 0o666;
  for (let attempt = 0; ; attempt++) {
    const suffix = `.${randomBytes(TEMP_RANDOM_BYTES).toString('hex')}.tmp`;
    const temp = path.join(path.dirname(target), `.${fitted(name, NAME_MAX - 1 - suffix.length)}${suffix}`);
    let fd: number;
    try {
      fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
      continue;
    }
    if (replaced) {
      try {
        likeReplaced(fd, replaced, target);
      } catch (e) {
        fs.closeSync(fd);
        fs.rmSync(temp, { force: true });
        throw e;
      }
    }
    return { fd, temp };
  }
}

/** The regular file at `target` that a new one will replace, or undefined: for a new name, and for
 * a symlink, which is replaced and not followed (the mode of the file it points to is another file's). */
function replacedFile(target: string): ReplacedFile | undefined {
  try {
    const st = fs.lstatSync(target);
    return st.isFile() ? st : undefined;
  } catch {
    return undefined; // nothing there, or nothing this process may look at: the open says why
  }
}

/** A data file's permission bits: never setuid, setgid or sticky, which mean nothing on flow records
 * and would make a file others may run as its owner. */
function permissionBits(st: ReplacedFile): number {
  return st.mode & 0o777;
}

/** Gives the temporary the replaced file's mode exactly (the umask narrowed it at the open), then its
 * owner and group where this process may. */
function likeReplaced(fd: number, replaced: ReplacedFile, target: string): void {
  fs.fchmodSync(fd, permissionBits(replaced));
  giveOwner(fd, replaced);
  // last: an access list sets the group bits to its mask. Its mode alone gave the file's group the
  // mask's rights and took from named users what the list gave them
  try {
    loadNative().copyAccessAcl(target, fd);
  } catch (e) {
    throw new Error(`the access list (ACL) of the file it replaces cannot be kept: ${describe(e)}`, { cause: e });
  }
}

/**
 * The replaced file's owner and group, given to the temporary where this process may: as root, or
 * as the file's owner (who may only give a group they are in). Otherwise the new file is the running
 * user's and their group's, as any file they make, and keeps only the replaced file's mode (its group
 * bits then apply to their group): all such a process can keep, so the run goes on. Root that cannot
 * (NFS's root_squash, a user namespace) fails before any input is read: the file would change hands unseen.
 */
function giveOwner(fd: number, replaced: ReplacedFile): void {
  const uid = process.getuid?.();
  if (uid !== 0 && uid !== replaced.uid) return;
  const made = fs.fstatSync(fd);
  if (made.uid === replaced.uid && made.gid === replaced.gid) return; // a file system may refuse even a chown that changes nothing
  try {
    fs.fchownSync(fd, replaced.uid, replaced.gid);
  } catch (e) {
    if (uid !== 0 && (e as NodeJS.ErrnoException).code === 'EPERM') return;
    throw new Error(`the owner of the file it replaces (user ${replaced.uid}, group ${replaced.gid}) cannot be kept: ${describe(e)}`, { cause: e });
  }
}

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Temporaries in `target`'s folder of earlier runs writing it (or its numbered files) that never
 * finished: a process killed outright (SIGKILL, power loss) cannot remove its own. Oldest first. */
export function leftTemporaries(target: string): string[] {
  const dir = path.dirname(target);
  const ext = path.extname(target);
  const stem = path.basename(target, ext);
  const name = new RegExp(`^\\.${escapeRegExp(stem)}(\\.\\d+)?${escapeRegExp(ext)}${TEMP_TAIL}$`);
  try {
    return fs.readdirSync(dir).filter((n) => name.test(n)).map((n) => path.join(dir, n))
      .map((f) => ({ f, at: fs.lstatSync(f).mtimeMs })).sort((a, b) => a.at - b.at).map((x) => x.f);
  } catch {
    return []; // a folder that cannot be listed is reported when the output is opened
  }
}

/** The same for a --partition dataset: its parts' temporaries in every dt=…[/hour=…] folder, paths
 * relative to the dataset (a service killed at its stop timeout leaves one a restart; they piled up
 * unseen, taking part numbers). */
export function leftDatasetTemporaries(dataset: string): string[] {
  const part = new RegExp(`^\\.part-\\d+\\.[a-z]+${TEMP_TAIL}$`);
  const found: string[] = [];
  const look = (rel: string, depth: number) => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(path.join(dataset, rel), { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (e.isFile() && part.test(e.name)) found.push(path.join(rel, e.name));
      else if (e.isDirectory() && depth < 2 && /^(dt|hour)=/.test(e.name)) look(path.join(rel, e.name), depth + 1);
    }
  };
  look('', 0);
  return found.sort();
}

/** name's first code points, at most `bytes` bytes of UTF-8 */
function fitted(name: string, bytes: number): string {
  if (Buffer.byteLength(name) <= bytes) return name;
  const points = Array.from(name);
  while (Buffer.byteLength(points.join('')) > bytes) points.pop();
  return points.join('');
}

/** Gives the temporary file the name `target` unless a file has it: false then. link() fails on an
 * existing name where rename() would replace it; a file system without hard links (FAT) gets a
 * check then a rename. */
function claim(temp: string, target: string): boolean {
  try {
    fs.linkSync(temp, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    if (fs.existsSync(target)) return false;
    fs.renameSync(temp, target);
    return true;
  }
  fs.unlinkSync(temp);
  return true;
}

/** An ENOENT from making a file or folder in a folder that exists: the kernel makes none there (/proc). */
function madeIn(err: NodeJS.ErrnoException): boolean {
  if ((err.syscall !== 'open' && err.syscall !== 'mkdir') || !err.path) return false;
  try {
    return fs.statSync(path.dirname(err.path)).isDirectory();
  } catch {
    return false;
  }
}

/** What only an output says; the rest is the table's (src/system-errors.ts). */
const OUTPUT_WORDS: Readonly<Record<string, string>> = {
  EPIPE: 'its reader went away before every flow was written',
  EXDEV: 'the temporary file and its name are on different file systems (a mount over the name?)',
};

/** An output's error in words. */
export function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return madeIn(err) ? 'no file can be made in this folder' : 'the folder does not exist';
  return systemErrorWords(e, OUTPUT_WORDS);
}
