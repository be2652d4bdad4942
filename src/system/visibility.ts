/**
 * System visibility (NFStream's system_visibility_mode): which process owns each flow's socket on
 * this host. A poller keeps every socket seen, with its owner, for a grace period after it last
 * appeared (short-lived connections close before their flow ends); a flow is matched when it
 * arrives from the meter: by its 5-tuple from either end, then by the local address and port of an
 * unconnected UDP socket, then by the port on a wildcard address.
 */
import { Field, fieldsFor, SchemaOptions } from '../schema';
import { FlowBatch } from '../streamer';
import { NativeStats } from '../native';
import { FlowSource } from '../run';
import { loadNative } from '../native';
import { findOwners, parseSocketLine, ProcessInfo, procHex, readSocketLines } from './sockets';

interface Seen extends ProcessInfo {
  lastMs: number;
}

export class SocketPoller {
  private readonly byKey = new Map<string, Seen>();
  private readonly owners = new Map<number, Seen>();
  /** lines of the last poll, parsed: an idle socket's line does not change between polls */
  private lines = new Map<string, { key: string; inode: number }>();
  private timer?: NodeJS.Timeout;
  /** false once sock_diag failed (an old kernel, no udp_diag): /proc/net from then on */
  useNetlink = true;
  /** poll cost so far: CPU microseconds, and polls */
  cpuMicros = 0;
  polls = 0;

  constructor(private readonly pollMs: number, private readonly graceMs: number) {}

  start(): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  poll(): void {
    const before = process.cpuUsage();
    const now = Date.now();
    const { keys, inodes } = this.sockets();
    const unknown = new Set<number>();
    for (let i = 0; i < inodes.length; i++) if (inodes[i] && !this.owners.has(inodes[i])) unknown.add(inodes[i]);
    for (const [inode, info] of findOwners(unknown)) this.owners.set(inode, { ...info, lastMs: now });
    for (let i = 0; i < keys.length; i++) {
      const owner = inodes[i] ? this.owners.get(inodes[i]) : undefined;
      if (!owner) continue;
      owner.lastMs = now;
      const seen = this.byKey.get(keys[i]);
      if (seen && seen.pid === owner.pid) seen.lastMs = now;
      else this.byKey.set(keys[i], { ...owner, lastMs: now });
    }
    // forgetting is not urgent: once every 20 polls is enough
    if (this.polls % 20 === 0) {
      for (const [inode, o] of this.owners) if (o.lastMs !== now) this.owners.delete(inode);
      for (const [k, v] of this.byKey) if (now - v.lastMs > this.graceMs) this.byKey.delete(k);
    }
    const used = process.cpuUsage(before);
    this.cpuMicros += used.user + used.system;
    this.polls++;
  }

  /** Every socket's key and inode: from netlink sock_diag, or else the /proc/net text. */
  private sockets(): { keys: string[]; inodes: ArrayLike<number> } {
    const table = this.useNetlink ? loadNative().socketTable() : null;
    if (table) return table;
    this.useNetlink = false;
    const lines = new Map<string, { key: string; inode: number }>();
    for (const [protocol, line] of readSocketLines()) lines.set(line, this.lines.get(line) ?? parseSocketLine(protocol, line));
    this.lines = lines;
    const parsed = [...lines.values()];
    return { keys: parsed.map((p) => p.key), inodes: parsed.map((p) => p.inode) };
  }

  match(protocol: number, srcIp: string, srcPort: number, dstIp: string, dstPort: number): Seen | undefined {
    if (protocol !== 6 && protocol !== 17) return undefined;
    const src = procHex(srcIp, srcPort);
    const dst = procHex(dstIp, dstPort);
    const wildcard = (port: number) => [...procHex('0.0.0.0', port), ...procHex('::', port)];
    for (const [a, b] of [[src, dst], [dst, src]]) {
      for (const l of a) for (const r of b) { const m = this.byKey.get(`${protocol}|${l}|${r}`); if (m) return m; }
    }
    if (protocol === 17) {
      for (const l of [...src, ...dst, ...wildcard(srcPort), ...wildcard(dstPort)]) { const m = this.byKey.get(`17|${l}|*`); if (m) return m; }
    }
    return undefined;
  }
}

/** A flow source whose flows carry system_process_pid, _name and _cmdline. */
export class SystemVisibility implements FlowSource {
  readonly fields: Field[];
  matched = 0;
  withLocalEnd = 0;

  constructor(private readonly inner: FlowSource, options: SchemaOptions, readonly poller: SocketPoller) {
    this.fields = fieldsFor({ ...options, systemVisibility: true });
  }

  async *batches(): AsyncGenerator<FlowBatch> {
    this.poller.start();
    try {
      const col = (name: string) => this.inner.fields.findIndex((f) => f.name === name);
      const [proto, sip, sport, dip, dport] = ['protocol', 'src_ip', 'src_port', 'dst_ip', 'dst_port'].map(col);
      for await (const b of this.inner.batches()) {
        this.poller.poll(); // sockets of flows that just ended may be about to close: look once more
        const pid = new Float64Array(b.length);
        const name: string[] = new Array(b.length).fill('');
        const cmdline: string[] = new Array(b.length).fill('');
        for (let r = 0; r < b.length; r++) {
          const p = (b.columns[proto] as Float64Array)[r];
          const m = this.poller.match(p, (b.columns[sip] as string[])[r], (b.columns[sport] as Float64Array)[r],
            (b.columns[dip] as string[])[r], (b.columns[dport] as Float64Array)[r]);
          if (p === 6 || p === 17) this.withLocalEnd++;
          if (!m) continue;
          this.matched++;
          pid[r] = m.pid;
          name[r] = m.name;
          cmdline[r] = m.cmdline;
        }
        // the inner batch's own fields: plugins may have added udps columns
        yield new FlowBatch([...b.fields, ...this.fields.slice(-3)], [...b.columns, pid, name, cmdline], b.length);
      }
    } finally {
      this.poller.stop();
    }
  }

  stop(): void { this.inner.stop(); }
  kill(): void { this.inner.kill?.(); }
  stats(): NativeStats | undefined { return this.inner.stats(); }
  counters() { return this.inner.counters(); }
}
