/**
 * System visibility (NFStream's system_visibility_mode): which process owns each flow's socket on
 * this host, from one of two sources. Kernel events (src/system/bpf.ts) where BPF loads; else this
 * file's SocketPoller: each new flow's sockets are looked up by its 5-tuple as soon as a worker reports it
 * (a cost per new flow, not per socket on the host), and the whole socket tables are read now and
 * then for what a lookup missed. Every socket seen is kept, with its owner, for a grace period
 * after it last appeared (short-lived connections close before their flow ends); a flow is
 * matched when it arrives from the meter: by its 5-tuple from either end, then by the local
 * address and port of an unconnected UDP socket or a listening TCP socket, then by the port on a
 * wildcard address.
 */
import { Field, fieldsFor, SchemaOptions } from '../schema';
import { FlowBatch } from '../flow-batch';
import { NativeStats } from '../native';
import { FlowSource } from '../run';
import { loadNative } from '../native';
import { findOwners, parseSocketLine, ProcessInfo, procHex, readSocketLines } from './sockets';

/** The processes behind a batch's flows, row by row: pid 0 and uid -1 where none was found. */
export interface Owners { pid: Float64Array; uid: Float64Array; name: string[]; cmdline: string[] }

/** Where SystemVisibility finds each flow's process. */
export interface OwnerSource {
  start(): void;
  stop(): void;
  owners(protocol: Float64Array, srcIp: string[], srcPort: Float64Array, dstIp: string[], dstPort: Float64Array): Owners;
}

interface Seen extends ProcessInfo {
  inode: number;
  /** while alive: the last poll that saw it; once gone (or only looked up): when it went (or was) */
  lastMs: number;
  alive: boolean;
}

/** What changed in the socket tables since the last poll. */
interface Changes { added: string[]; inodes: ArrayLike<number>; gone: string[] }

/** A new socket's owner is looked for this many polls (its process may not have it in /proc/<pid>/fd
 * yet); a socket a lookup found, once (a dump finds it again if it lives on). */
const OWNER_TRIES = 3;
/** Processes that owned sockets lately are looked at first. */
const RECENT_OWNERS = 16;

export class SocketPoller implements OwnerSource {
  private readonly byKey = new Map<string, Seen>();
  /** new sockets whose owner was not found yet: key → inode, tries left, whether a dump saw it */
  private pending = new Map<string, { inode: number; tries: number; alive: boolean }>();
  /** /proc/net fallback: the sockets of the last poll, key → inode */
  private procLive = new Map<string, number>();
  private lines = new Map<string, { key: string; inode: number }>();
  private timer?: NodeJS.Timeout;
  /** false once sock_diag failed (an old kernel, no udp_diag): /proc/net from then on */
  useNetlink = true;
  private first = true;
  private lastDumpMs = 0;
  private recentOwners: number[] = [];
  /** cost so far: CPU microseconds after the first poll (which learns every socket and owner
   * there is), that first poll's, and polls; new flows looked up and the sockets they found */
  cpuMicros = 0;
  firstPollMicros = 0;
  polls = 0;
  dumps = 0;
  flowsLookedUp = 0;
  socketsFound = 0;
  /** the most processes one walk of /proc could not look into (other users', unprivileged) */
  deniedProcesses = 0;

  /** dumpMs: the whole tables are read this often (0: at every poll); new flows are looked up
   * as they come (lookup()) */
  constructor(private readonly pollMs: number, private readonly graceMs: number, private readonly dumpMs = 0) {}

  start(): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Only what changed reaches JavaScript: thousands of idle sockets cost a poll nothing here. */
  poll(): void {
    const before = process.cpuUsage();
    const now = Date.now();
    // without lookups (no sock_diag: /proc/net) the tables are read at every poll
    if (!this.dumpMs || !this.useNetlink || now - this.lastDumpMs >= this.dumpMs) {
      this.lastDumpMs = now;
      this.dumps++;
      const { added, inodes, gone } = this.changes();
      for (const k of gone) {
        this.pending.delete(k);
        const seen = this.byKey.get(k);
        if (seen) { seen.alive = false; seen.lastMs = now; }
      }
      this.learn(added, inodes, now, true);
    }
    this.resolve(now);
    // forgetting is not urgent: once every 20 polls is enough
    if (this.polls % 20 === 0) {
      for (const [k, v] of this.byKey) if (!v.alive && now - v.lastMs > this.graceMs) this.byKey.delete(k);
    }
    if (this.polls === 0) {
      const used = process.cpuUsage(before);
      this.firstPollMicros = used.user + used.system;
    } else {
      this.charge(before);
    }
    this.polls++;
  }

  /** The sockets of flows a meter just saw begin (its newFlowKeys), by their 5-tuples, while
   * they are most likely still open; their owners are looked for at once. */
  lookup(keys: Buffer): void {
    if (!this.useNetlink) return;
    const before = process.cpuUsage();
    const now = Date.now();
    const native = loadNative();
    const found = native.socketLookup(keys);
    this.flowsLookedUp += keys.length / native.flowKeyBytes;
    if (found) {
      this.socketsFound += found.added.length;
      this.learn(found.added, found.inodes, now, false);
      this.resolve(now);
    }
    this.charge(before);
  }

  private charge(before: NodeJS.CpuUsage): void {
    const used = process.cpuUsage(before);
    this.cpuMicros += used.user + used.system;
  }

  /** New sockets: a known one (same key, same inode) is only marked seen; the others wait for an
   * owner. alive: a dump saw it (a lookup only says it was there). */
  private learn(added: readonly string[], inodes: ArrayLike<number>, now: number, alive: boolean): void {
    for (let i = 0; i < added.length; i++) {
      const known = this.byKey.get(added[i]);
      if (known && known.inode === inodes[i]) {
        if (alive) { known.alive = true; known.lastMs = now; }
        continue;
      }
      this.pending.set(added[i], { inode: inodes[i], tries: alive ? OWNER_TRIES : 1, alive });
    }
  }

  /** One walk of /proc for the owners of every socket waiting for one. */
  private resolve(now: number): void {
    if (!this.pending.size) return;
    const walk = { denied: 0 };
    const owners = findOwners(new Set([...this.pending.values()].map((p) => p.inode)), this.recentOwners, walk);
    this.deniedProcesses = Math.max(this.deniedProcesses, walk.denied);
    for (const [key, p] of this.pending) {
      const owner = owners.get(p.inode);
      if (owner) this.byKey.set(key, { ...owner, inode: p.inode, lastMs: now, alive: p.alive });
      if (owner || --p.tries <= 0) this.pending.delete(key);
    }
    for (const o of owners.values()) {
      this.recentOwners = [o.pid, ...this.recentOwners.filter((pid) => pid !== o.pid)].slice(0, RECENT_OWNERS);
    }
  }

  /** From netlink sock_diag (the native side keeps the last table and reports changes), or else
   * from the /proc/net text, compared here. */
  private changes(): Changes {
    const fromNetlink = this.useNetlink ? loadNative().socketChanges(this.first) : null;
    this.first = false;
    if (fromNetlink) return fromNetlink;
    this.useNetlink = false;
    const lines = new Map<string, { key: string; inode: number }>();
    for (const [protocol, line] of readSocketLines()) lines.set(line, this.lines.get(line) ?? parseSocketLine(protocol, line));
    this.lines = lines;
    const live = new Map<string, number>();
    for (const { key, inode } of lines.values()) if (inode) live.set(key, inode);
    const added: string[] = [], addedInodes: number[] = [];
    for (const [k, inode] of live) if (this.procLive.get(k) !== inode) { added.push(k); addedInodes.push(inode); }
    const gone = [...this.procLive.keys()].filter((k) => !live.has(k));
    this.procLive = live;
    return { added, inodes: addedInodes, gone };
  }

  /** A batch's flows, looked for once the tables were read again (sockets of flows that just
   * ended may be about to close). */
  owners(protocol: Float64Array, srcIp: string[], srcPort: Float64Array, dstIp: string[], dstPort: Float64Array): Owners {
    this.poll();
    const n = protocol.length;
    const out: Owners = { pid: new Float64Array(n), uid: new Float64Array(n).fill(-1), name: new Array<string>(n).fill(''), cmdline: new Array<string>(n).fill('') };
    this.fillOwners(out, protocol, srcIp, srcPort, dstIp, dstPort);
    return out;
  }

  /** The owners this poller knows of the flows out has none for (pid 0). */
  fillOwners(out: Owners, protocol: Float64Array, srcIp: string[], srcPort: Float64Array, dstIp: string[], dstPort: Float64Array): void {
    for (let r = 0; r < protocol.length; r++) {
      if (out.pid[r] > 0) continue;
      const m = this.match(protocol[r], srcIp[r], srcPort[r], dstIp[r], dstPort[r]);
      if (!m) continue;
      out.pid[r] = m.pid;
      out.uid[r] = m.uid;
      out.name[r] = m.name;
      out.cmdline[r] = m.cmdline;
    }
  }

  match(protocol: number, srcIp: string, srcPort: number, dstIp: string, dstPort: number): Seen | undefined {
    if (protocol !== 6 && protocol !== 17) return undefined;
    const src = procHex(srcIp, srcPort);
    const dst = procHex(dstIp, dstPort);
    const wildcard = (port: number) => [...procHex('0.0.0.0', port), ...procHex('::', port)];
    for (const [a, b] of [[src, dst], [dst, src]]) {
      for (const l of a) for (const r of b) { const m = this.byKey.get(`${protocol}|${l}|${r}`); if (m) return m; }
    }
    // an unconnected UDP socket; a TCP connection whose own socket came and went unseen: the
    // process listening on its local end (the server that accepted it)
    for (const l of [...src, ...dst, ...wildcard(srcPort), ...wildcard(dstPort)]) {
      const m = this.byKey.get(`${protocol}|${l}|*`);
      if (m) return m;
    }
    return undefined;
  }
}

/** A flow source whose flows carry system_process_pid, _name, _cmdline, _uid and _user. */
export class SystemVisibility implements FlowSource {
  readonly fields: Field[];
  matched = 0;
  withLocalEnd = 0;
  private readonly users = new Map<number, string>();

  constructor(private readonly inner: FlowSource, options: SchemaOptions, readonly source: OwnerSource) {
    this.fields = fieldsFor({ ...options, systemVisibility: true });
  }

  async *batches(): AsyncGenerator<FlowBatch> {
    this.source.start();
    try {
      const col = (name: string) => this.inner.fields.findIndex((f) => f.name === name);
      const [proto, sip, sport, dip, dport] = ['protocol', 'src_ip', 'src_port', 'dst_ip', 'dst_port'].map(col);
      const system = this.fields.filter((f) => f.group === 'system');
      for await (const b of this.inner.batches()) {
        const protocols = b.columns[proto] as Float64Array;
        const o = this.source.owners(protocols, b.columns[sip] as string[], b.columns[sport] as Float64Array,
          b.columns[dip] as string[], b.columns[dport] as Float64Array);
        for (let r = 0; r < b.length; r++) {
          if (protocols[r] === 6 || protocols[r] === 17) this.withLocalEnd++;
          if (o.pid[r] > 0) this.matched++;
        }
        const user = Array.from(o.uid, (uid) => (uid < 0 ? '' : this.userName(uid)));
        // the inner batch's own fields: plugins may have added udps columns
        yield new FlowBatch([...b.fields, ...system], [...b.columns, o.pid, o.name, o.cmdline, o.uid, user], b.length);
      }
    } finally {
      this.source.stop();
    }
  }

  private userName(uid: number): string {
    let name = this.users.get(uid);
    if (name === undefined) this.users.set(uid, (name = loadNative().userName(uid)));
    return name;
  }

  start(): void { this.inner.start?.(); }
  ready(): Promise<void> { return this.inner.ready?.() ?? Promise.resolve(); }
  stop(): void { this.inner.stop(); }
  kill(): void { this.inner.kill?.(); }
  peakRssKb(): number { return this.inner.peakRssKb?.() ?? 0; }
  stats(): NativeStats | undefined { return this.inner.stats(); }
  counters() { return this.inner.counters(); }
}
