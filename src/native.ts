/**
 * Finds and loads the compiled meter: FLOWSEEK_ADDON, then build/Release and build/Debug (compiled
 * here), then the prebuilt one an npm package carries (prebuilds/<platform>-<arch>/, the
 * node-gyp-build / prebuildify layout; nDPI linked in, the other libraries shared).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FlowseekError } from './errors';

export interface NativeBatch {
  length: number;
  base: Float64Array;
  stats?: Float64Array;
  /** text columns; the address ones as a single string with "\n" between the values */
  strings: Record<string, string[] | string>;
  splt?: { n: number; direction: Int8Array; ps: Int32Array; piat_ms: Float64Array };
  activity?: Float64Array;
  /** first, last, duration for each of the three scopes, column after column (us or ns) */
  fineTime?: BigUint64Array;
  payload?: { width: number; bytes: Uint8Array; len: Float64Array };
  header?: { n: number; width: number; bytes: Uint8Array; count: Float64Array };
  /** with plugins: each metered packet (columns in num, one after the other) and its IP bytes */
  events?: { n: number; names: string[]; num: Float64Array; src: Uint8Array; dst: Uint8Array; ip: Uint8Array };
  /** with plugins: each finished flow's uid, as in events */
  uids?: Float64Array;
  /** reportNewFlows: the keys of the TCP/UDP flows begun since the last batch, for socketLookup() */
  newFlowKeys?: Buffer;
  /** the meter's counters when this batch was made */
  counters: NativeStats;
}

export interface NativeStats {
  packets: number;
  processed: number;
  ignored: number;
  ignoredBy: Record<string, number>;
  flowsCreated: number;
  flowsExported: number;
  flowsIdle: number;
  flowsActive: number;
  flowsFlushed: number;
  flowsEvicted: number;
  allocFailures: number;
  activeFlows: number;
  tableBytes: number;
  /** open flows holding nDPI's state (detection not over) */
  detectingFlows: number;
  bytesRead: number;
  oversizeRecords: number;
  /** packets timed more than a second before a packet read earlier, given its time; the most such */
  retimed: number;
  retimedMaxMs: number;
  readErrors: number;
  /** files with a read error that warnings does not name (no room left): counted, the first named */
  readErrorsLeftOut: number;
  /** files that started before the file read before them ended (each noted in warnings) */
  overlappingFiles: number;
  kernelReceived: number;
  kernelDropped: number;
  warnings: string;
}

export interface NativeInterface {
  name: string;
  description: string;
  up: boolean;
  running: boolean;
  loopback: boolean;
}

export interface NativeOpenOptions {
  files?: string[];
  idleTimeoutMs: number;
  activeTimeoutMs: number;
  maxFlows: number;
  maxActiveFlows?: number;
  decodeTunnels: boolean;
  accounting: number;
  stats: boolean;
  splt: number;
  dissections: number;
  timePrecision?: number;
  activity?: boolean;
  activityGapMs?: number;
  payloadBytes?: number;
  headerPackets?: number;
  headerWidth?: number;
  communityId?: boolean;
  communityIdSeed?: number;
  packetEvents?: boolean;
  eventsOnePerFlow?: boolean;
  endPorts?: number[];
  snaplen: number;
  bpf?: string;
  partitions?: number;
  partition?: number;
  interface?: string;
  promisc?: boolean;
  bufferBytes?: number;
  fanoutGroup?: number;
  /** files: hand over a batch at least this often, full or not (progress display); live: this
   * often (10 to 1000 ms; default 1000) */
  yieldMs?: number;
  /** keep the keys of new TCP/UDP flows for system visibility (batch.newFlowKeys) */
  reportNewFlows?: boolean;
}

export interface NativeMeter {
  /** expire: [slot, uid, ...] of flows plugins ended, applied before any further packet; exact:
   * from now on at most one packet per flow per batch (a live capture whose plugin ended a flow) */
  next(maxFlows: number, expire?: Float64Array, exact?: boolean): Promise<NativeBatch | null>;
  /** the same, made on the calling thread (a lane's own worker thread) */
  nextSync(maxFlows: number): NativeBatch | null;
  /** from now on next() and nextSync() give NativeTextPart, not NativeBatch (src/writers/text-plan.ts) */
  textOutput(plan: NativeTextPlan): void;
  stats(): NativeStats;
  stop(): void;
  close(): void;
}

/** CSV or JSON Lines made in C after each step (native/text_rows.h): the columns in output order. */
export interface NativeTextPlan {
  format: 'csv' | 'jsonl';
  /** the id column's index in the base block: a lane's ids are its spread's, in the order made */
  idColumn: number;
  /** rows whose id reaches this are left out (0: none) */
  maxFlows: number;
  /** each row without its first column, the id: whoever orders the rows of several processes
   * writes it (the part's ends then say where each row ends) */
  omitId?: boolean;
  /** each part's bytes are the meter's own buffer, not a copy, taken back for a later step once
   * release()d or collected: only where the bytes stay on this thread (a transfer to another
   * thread copies them instead, and the buffer comes back only when collected) */
  lendBuffers?: boolean;
  columns: { source: NativeTextSource; index: number; key: string }[];
}

export type NativeTextSource = 'base' | 'stats' | 'activity' | 'fine' | 'address' | 'community' | 'dpi' | 'splt' | 'payload'
  | 'payload_len' | 'header' | 'header_count';

/** A step's flows as text: ids [first, first + length), rows past maxFlows left out. */
export interface NativeTextPart {
  length: number;
  first: number;
  bytes: Buffer;
  /** omitId: where each row ends in bytes */
  ends?: Uint32Array;
  counters: NativeStats;
}

/** One reading of the files for several lanes, each opened on a thread of its own by openLane(). */
export interface NativeSpread {
  readonly id: number;
  /** the reading stops; every lane flushes its open flows and ends */
  stop(): void;
  /** lanes never opened are released; a reader ends once every lane is closed */
  close(): void;
  /** how often a reader waited for a lane's room, and woke to find none (0 where each lane reads the files; undefined once closed) */
  waits(): { sleeps: number; needless: number } | undefined;
}

export interface NativeAddon {
  open(options: NativeOpenOptions): NativeMeter;
  /** the files for n lanes, each metering the frames of its host-pair partition: each lane reads
   * regular files itself, a reader thread reads a FIFO or standard input for them (no packet
   * events: plugins need worker processes) */
  openSpread(options: NativeOpenOptions, n: number): NativeSpread;
  /** lane i of a spread, from any thread (once per lane), as a meter with these options */
  openLane(spread: number, lane: number, options: NativeOpenOptions): NativeMeter;
  /** every lane of a spread, as openLane() opens each, opened at once on threads of their own */
  openLanes(spread: number, options: NativeOpenOptions): NativeMeter[];
  columns(): { base: string[]; stats: string[]; activity: string[]; strings: { addresses: string[]; dpi: string[] } };
  /** frees the memory of a buffer that is the whole of its ArrayBuffer (detached: it reads as empty) */
  release(bytes: Uint8Array): void;
  /** a detection text's bytes as the C text writers write that format (for tests) */
  textCell(format: 'csv' | 'jsonl', bytes: Buffer): Buffer;
  /** asks the kernel to start writing a range of the file out (sync_file_range), on a pool thread;
   * rejects with the errno's code where the file system cannot */
  startWriteback(fd: number, offset: number, length: number): Promise<void>;
  /** a TCP socket's bytes the other end has not acknowledged, sent or not (ioctl SIOCOUTQ; a FIN
   * sent counts one); throws with the errno where the kernel will not say */
  sendQueueBytes(fd: number): number;
  /** the POSIX access ACL of fromPath (not followed), set on toFd; false where it has none; throws
   * with the errno where it has one that cannot be carried */
  copyAccessAcl(fromPath: string, toFd: number): boolean;
  /** text buffers lent as they are (lendBuffers), and those among them that had come back (for tests) */
  textBuffers(): { lent: number; reused: number };
  interfaces(): NativeInterface[];
  /** null, or why libpcap cannot compile this filter (for an Ethernet link) */
  checkFilter(expression: string): string | null;
  /** after a capture is open: root becomes nobody, capabilities go; says what is kept */
  dropPrivileges(): string;
  /** the host's TCP/UDP sockets through netlink sock_diag, keyed as /proc/net writes them: those
   * new since the last call (all of them at the first, or with reset) and the keys gone; null if unavailable */
  socketChanges(reset?: boolean): { added: string[]; inodes: Float64Array; gone: string[] } | null;
  /** the local sockets of new flows (a batch's newFlowKeys), by exact sock_diag requests: keyed as
   * socketChanges() keys them; null if unavailable */
  socketLookup(keys: Buffer): { added: string[]; inodes: Float64Array } | null;
  /** whether the BPF object of system visibility was built in */
  bpfBuiltIn: boolean;
  /** loads and attaches it, a thread reading its events into a table of sockets of this process's
   * network namespace, each kept graceMs after it closed: null, or why it cannot */
  bpfStart(graceMs: number): string | null;
  bpfStop(): void;
  /** a batch's flows matched against that table: pid 0 and uid -1 where no socket was found */
  bpfMatch(protocol: Float64Array, srcIp: string[], srcPort: Float64Array, dstIp: string[], dstPort: Float64Array):
    { pid: Float64Array; uid: Float64Array; name: string[]; cmdline: string[] };
  bpfStats(): { events: number; lost: number; sockets: number; tableFull: number; readerCpuMicros: number; programRunMicros: number; programRuns: number };
  /** the kernel counts BPF programs' run time while on (a global switch, for benchmarks) */
  bpfRunTimeStats(on: boolean): boolean;
  /** a user id's account name (getpwuid_r), "" if none */
  userName(uid: number): string;
  /** zstd or snappy compression of one buffer (Parquet pages) */
  compress(codec: 'zstd' | 'snappy', data: Uint8Array, level?: number): Buffer;
  /** libuv's pool started now; rejected with why when its threads cannot start (addon_system.c) */
  startPool(): Promise<void>;
  libpcapVersion: string;
  ndpiFlowStateBytes: number;
  /** bytes of one open flow's record without --stats */
  flowRecordBytes: number;
  /** what --stats adds to each record */
  flowStatsBytes: number;
  /** bytes of a flow's own-features block, before its payload and header bytes */
  flowExtraBytes: number;
  /** bytes of one key in a batch's newFlowKeys */
  flowKeyBytes: number;
}

let cached: NativeAddon | undefined;

/** What the addon links at run time, for the message when one is missing (Debian package names). */
const RUNTIME_LIBRARIES = 'libpcap, OpenSSL 3 (libcrypto), zstd, snappy, libgcrypt and, where built with BPF, libbpf (on Debian: apt install libpcap0.8 libssl3 libzstd1 libsnappy1v5 libgcrypt20 libbpf1)';

export function loadNative(): NativeAddon {
  if (cached) return cached;
  const root = path.resolve(__dirname, '..', '..');
  const candidates = [
    process.env.FLOWSEEK_ADDON,
    path.join(root, 'build', 'Release', 'flowseek.node'),
    path.join(root, 'build', 'Debug', 'flowseek.node'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'flowseek.napi.node'),
  ].filter((p): p is string => Boolean(p));
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    try {
      cached = require(file) as NativeAddon;
    } catch (e) {
      const why = String((e as Error).message).split('\n')[0];
      const hint = /cannot open shared object file/.test(why) ? `; it needs ${RUNTIME_LIBRARIES}`
        : /failed to map segment|cannot allocate memory/i.test(why) ? '; out of memory: is this process\'s memory limited (ulimit -v, a cgroup)?' : '';
      throw new FlowseekError(`the native meter ${file} does not load: ${why}${hint}`, 'FS_NO_ADDON', 1, { cause: e });
    }
    return cached;
  }
  throw new FlowseekError('the native meter is not built: run "npm run build" (or "npm rebuild flowseek" where flowseek is installed)', 'FS_NO_ADDON');
}
