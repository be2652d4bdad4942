/**
 * Sends finished flows to an IPFIX collector over UDP (templates resent on a schedule, messages
 * kept under a path MTU) or TCP (templates once, at the start of the stream). One message holds
 * records of one template; a record never splits across messages.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { OutputError } from '../errors';
import { FlowBatch } from '../flow-batch';
import { systemErrorWords } from '../system-errors';
import { AcknowledgedMessages, sendQueueBytes } from './acknowledged';
import { dataRecord, message, set, Template, templates, templateSet } from './encode';

export interface IpfixTarget {
  transport: 'udp' | 'tcp';
  host: string;
  port: number;
  /** observation domain id */
  domain: number;
  /** UDP: templates again after this long (ms) */
  templateRefreshMs: number;
  /** TCP: a connection not made, or bytes not taken, for this long (ms) ends the run */
  stallMs: number;
}

/** UDP messages stay within an Ethernet path MTU; TCP messages may be larger. */
const UDP_MESSAGE = 1400;
const TCP_MESSAGE = 16384;
/** After a stop, a collector that takes nothing for this long is given up: it must not hold the stop
 * (the file outputs still get every flow). One that reads takes bytes far more often than this. */
const STOPPING_STALL_MS = 2000;
/** TCP: how long the close waits for the collector to close its end (see close()) */
const LINGER_MS = 1000;
/** TCP: how often the close looks at what the kernel still holds for the collector */
const ACK_POLL_MS = 20;
/** TCP: the FIN our end's close sends counts one byte in the kernel's send queue until acknowledged */
const FIN_BYTES = 1;

export class IpfixExporter {
  private readonly templates: Template[];
  private readonly ipVersion: number;
  private readonly limit: number;
  private udp?: dgram.Socket;
  private tcp?: net.Socket;
  private failure?: Error;
  private sequence = 0;
  private templatesSentAt = -Infinity;
  /** records waiting, per template: a batch's are sent before write() returns */
  private readonly pending = new Map<number, { records: Buffer[]; bytes: number }>();
  /** closed or discarded: what the socket says after that is no failure */
  private done = false;
  /** TCP: every byte is with the kernel and ours is closed: the collector's end closing is expected */
  private finished = false;
  /** TCP: when the socket last took bytes, or began to hold some; checked by `watch` */
  private lastTaken = 0;
  private stallMs: number;
  private watch?: NodeJS.Timeout;
  /** ends a wait for the socket (drain, finish) at a failure */
  private wake?: () => void;
  /** TCP: the messages the collector has acknowledged, and those the kernel still holds */
  private readonly acks = new AcknowledgedMessages();
  /** TCP: the data bytes the kernel held for the collector when last asked */
  private queued?: number;
  /** the collector failed (closed or broke the connection, stopped reading, refused every datagram to the end) */
  onFailure?: (e: OutputError) => void;
  /** messages and records sent, for the summary (UDP: the socket took them; TCP: the collector
   * acknowledged them): a record handed over, or held by the kernel, is not yet sent */
  messages = 0;
  records = 0;

  constructor(fieldNames: readonly string[], private readonly target: IpfixTarget) {
    this.templates = templates(fieldNames);
    this.ipVersion = fieldNames.indexOf('ip_version');
    this.limit = target.transport === 'udp' ? UDP_MESSAGE : TCP_MESSAGE;
    this.stallMs = target.stallMs;
  }

  get label(): string {
    const host = this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host;
    return `${this.target.transport}://${host}:${this.target.port}`;
  }

  /** The closing summary, of the run's `flows`. */
  summary(flows: number): string {
    const unsent = flows - this.records;
    const refused = this.refused ? `; ${this.refused} refused by the collector (nothing listened for a while)` : '';
    return `${this.records} flows sent to ${this.label} in ${this.messages} IPFIX message${this.messages === 1 ? '' : 's'}${unsent ? `; ${unsent} not sent` : ''}${refused}`;
  }

  async open(): Promise<void> {
    const { host, port } = this.target;
    const fail = (e: Error) => new OutputError(`IPFIX collector ${this.label}: ${describe(e)}`, { cause: e });
    if (this.target.transport === 'tcp') {
      this.tcp = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host, port });
        // a SYN nobody answers is retried for about two minutes, and a stop signal waits for the open
        const timer = setTimeout(() => {
          s.destroy();
          reject(new OutputError(`IPFIX collector ${this.label}: no answer to the connection within ${seconds(this.stallMs)} s`));
        }, this.stallMs);
        const onError = (e: Error) => { clearTimeout(timer); reject(fail(e)); };
        s.once('connect', () => { clearTimeout(timer); s.off('error', onError); resolve(s); });
        s.once('error', onError);
      });
      this.tcp.on('error', (e) => this.fail(fail(e)));
      // a collector that closes its end takes no more flows: nothing else would say so. After ours
      // is closed too, Node lets the socket go right after this: what it acknowledged is read now
      this.tcp.on('end', () => {
        if (!this.finished) this.fail(new OutputError(`IPFIX collector ${this.label}: the collector closed the connection`));
        else this.settleQuietly();
      });
      this.tcp.on('close', (hadError) => { if (!this.finished || hadError) this.fail(new OutputError(`IPFIX collector ${this.label}: the connection closed`)); });
      // a collector that accepts and never reads fills the send buffer: a write would wait for ever
      this.watch = setInterval(() => this.checkStall(), Math.min(250, this.stallMs / 4)).unref();
      return;
    }
    const family = net.isIPv6(host) ? 'udp6' : 'udp4';
    const s = dgram.createSocket(family);
    await new Promise<void>((resolve, reject) => {
      s.once('error', (e) => reject(fail(e)));
      // the callback gets the connect's error (unknown host, no route, broadcast): an unconnected
      // socket would fail at the first send, with a message about the arguments
      s.connect(port, host, (e?: Error) => {
        if (!e) { resolve(); return; }
        s.close();
        reject(fail(e));
      });
    });
    // a collector not listening shows as ICMP port unreachable on a later send. One restarting answers a datagram or two with ICMP port unreachable: counted, not the
    // end of a capture (its service restarted, and traffic went unmetered meanwhile); one that
    // refuses at the end of the run is not there (close)
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') this.refusedNow(e);
      else this.fail(fail(e));
    });
    this.udp = s;
  }

  /** The run is stopping: a collector that takes nothing for a moment is given up. */
  stopping(): void {
    this.stallMs = Math.min(this.stallMs, STOPPING_STALL_MS);
  }

  private checkStall(): void {
    const s = this.tcp;
    if (!s || this.failure || this.done) return;
    // the messages acknowledged are let go as the run goes, not kept to its end
    try {
      this.settle(s);
    } catch (e) {
      this.fail(this.cannotTell(e));
      return;
    }
    if (s.writableLength === 0) return;
    const idle = Date.now() - this.lastTaken;
    if (idle < this.stallMs) return;
    this.fail(new OutputError(`IPFIX collector ${this.label}: it stopped reading (nothing taken for ${seconds(idle)} s)`));
    s.destroy();
  }

  async write(batch: FlowBatch): Promise<void> {
    this.throwIfFailed();
    for (let r = 0; r < batch.length; r++) {
      const t = this.templates[batch.value(this.ipVersion, r) === 6 ? 1 : 0];
      const rec = dataRecord(t, batch, r);
      const waiting = this.pending.get(t.id);
      if (waiting && 16 + 4 + waiting.bytes + rec.length > this.limit) await this.flush(t.id);
      const p = this.pending.get(t.id) ?? { records: [], bytes: 0 };
      p.records.push(rec);
      p.bytes += rec.length;
      this.pending.set(t.id, p);
    }
    for (const id of [...this.pending.keys()]) await this.flush(id);
  }

  private async flush(id: number): Promise<void> {
    const records = this.pending.get(id)?.records;
    if (!records) return;
    this.pending.delete(id);
    const now = Date.now();
    const refresh = this.target.transport === 'udp' && now - this.templatesSentAt >= this.target.templateRefreshMs;
    if (this.templatesSentAt === -Infinity || refresh) {
      // one template per set: nfcapd 1.7 mixes up two templates sent in one set
      await this.send(message(this.header(now), this.templates.map((t) => templateSet([t]))), 0);
      this.templatesSentAt = now;
    }
    await this.send(message(this.header(now), [set(id, Buffer.concat(records))]), records.length);
    this.sequence = (this.sequence + records.length) >>> 0;
  }

  private header(now: number) {
    return { exportTime: Math.floor(now / 1000), sequence: this.sequence, domain: this.target.domain };
  }

  /** Counted once the socket has taken the message (UDP) or the collector acknowledged it (TCP),
   * not when it is handed over. */
  private async send(msg: Buffer, records: number): Promise<void> {
    this.throwIfFailed();
    if (this.udp) {
      const s = this.udp;
      const refused = await new Promise<boolean>((resolve, reject) => s.send(msg, (e) => {
        if (!e) resolve(false);
        else if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') { this.refusedNow(e); resolve(true); }
        else reject(e);
      })).catch((e: Error) => { throw new OutputError(`IPFIX collector ${this.label}: ${describe(e)}`, { cause: e }); });
      if (refused) return;
      this.sentAt = Date.now(); // a refusal after this is the collector's answer to it
      this.messages++;
      this.records += records;
      // let an ICMP error from the previous datagram arrive before the next one
      if (this.messages % 64 === 0) await new Promise((r) => setImmediate(r));
      return;
    }
    const s = this.tcp as net.Socket;
    // the time without progress counts from when the socket begins to hold bytes
    if (s.writableLength === 0) this.lastTaken = Date.now();
    const full = !s.write(msg, (e) => {
      if (e) return;
      this.lastTaken = Date.now();
      // sent once the collector acknowledges it (settle)
      this.acks.took(msg.length, records);
    });
    // a connection that breaks while full never drains; one that stops reading is ended by checkStall
    if (full) await this.until(s, 'drain');
    this.throwIfFailed();
  }

  /** TCP: what the kernel still holds of the data (undefined once the socket is gone); the messages
   * before that are sent. */
  private settle(s: net.Socket): number | undefined {
    const queued = sendQueueBytes(s);
    if (queued === undefined) return undefined;
    this.queued = Math.max(0, queued - (this.finished ? FIN_BYTES : 0));
    this.acks.settle(this.queued);
    this.messages = this.acks.messages;
    this.records = this.acks.records;
    return this.queued;
  }

  private settleQuietly(): void {
    try {
      if (this.tcp) this.settle(this.tcp);
    } catch { /* the close says so, where it cannot tell */ }
  }

  private cannotTell(e: unknown): OutputError {
    return new OutputError(`IPFIX collector ${this.label}: cannot tell what the collector took: ${describe(e as Error)}`, { cause: e });
  }

  /** TCP, our end closed: until the collector has acknowledged every byte. One that takes none of
   * what the kernel still holds for the timeout (2 s after a stop, as for the writes) fails the
   * run: the flows in those bytes are lost. One that reads slowly is waited for. */
  private async acknowledged(s: net.Socket): Promise<void> {
    let least = Infinity;
    let movedAt = Date.now();
    for (;;) {
      if (this.failure) return;
      let now: number | undefined;
      try {
        now = this.settle(s);
      } catch (e) {
        this.fail(this.cannotTell(e));
        return;
      }
      // undefined: the collector closed its end and Node let the socket go; what it had taken was read at 'end'
      const left = now ?? this.queued;
      if (left === 0) return;
      if (left !== undefined && left < least) { least = left; movedAt = Date.now(); }
      const idle = Date.now() - movedAt;
      if (now === undefined || idle >= this.stallMs) {
        const bytes = left === undefined ? 'bytes' : `${left} bytes`;
        const why = now === undefined ? `the connection closed before the collector took the last ${bytes}`
          : `it did not take the last ${bytes} (nothing taken for ${seconds(idle)} s)`;
        const lost = this.acks.unacknowledgedRecords;
        this.fail(new OutputError(`IPFIX collector ${this.label}: ${why}: the ${lost} flow${lost === 1 ? ' in them is' : 's in them are'} lost`));
        return;
      }
      await new Promise((r) => setTimeout(r, ACK_POLL_MS));
    }
  }

  /** Resolves at the event, when the socket closes, or at a failure. */
  private until(s: net.Socket, event: 'drain' | 'finish' | 'end'): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => { s.off(event, done).off('close', done); this.wake = undefined; resolve(); };
      if (this.failure || s.destroyed) { resolve(); return; }
      this.wake = done;
      s.once(event, done).once('close', done);
    });
  }

  /** A method, not an inline check: after an await TypeScript still believes the check made before
   * it, while a socket callback may have set the failure meanwhile. */
  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** The first failure, once: the run is told at once, not at the next write. */
  private fail(e: OutputError): void {
    if (this.failure || this.done) return;
    this.failure = e;
    this.wake?.();
    this.onFailure?.(e);
  }

  /** datagrams the collector refused (ICMP port unreachable); the last refusal, and when it came */
  refused = 0;
  private lastRefusal?: { e: Error; at: number };
  private sentAt = 0;

  private refusedNow(e: Error): void {
    this.refused++;
    this.lastRefusal = { e, at: Date.now() };
  }

  async close(): Promise<void> {
    this.throwIfFailed();
    if (this.udp) {
      const s = this.udp;
      // a last port-unreachable has a moment to show before the socket goes
      await new Promise((r) => setTimeout(r, 20));
      // refused to the last: nothing listens there (the run fails, as it did at the first refusal)
      const last = this.lastRefusal;
      if (last && last.at >= this.sentAt) this.fail(new OutputError(`IPFIX collector ${this.label}: ${describe(last.e)}`, { cause: last.e }));
      this.throwIfFailed();
      this.done = true;
      s.close();
    }
    if (this.tcp) {
      const s = this.tcp;
      // 'finish': the socket took the last bytes; a collector that closes or stops reading before
      // that is a failure (checkStall still watches)
      const finished = this.until(s, 'finish');
      s.end();
      await finished;
      this.throwIfFailed();
      // a collector that read every byte closes its end too: no failure from here on
      this.finished = true;
      // 'finish' says the kernel has the bytes, not that the collector does: a socket let go with
      // bytes in the kernel's queue lost them (a collector reading slowly had its stream cut, one
      // that never reads got none), and the run said they were sent
      await this.acknowledged(s);
      this.throwIfFailed();
      // one that closed without reading them all resets the connection, which may come after
      // this. One that keeps its end open is not waited for long.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.until(s, 'end'), new Promise((r) => { timer = setTimeout(r, LINGER_MS); })]);
      clearTimeout(timer);
      this.throwIfFailed();
      this.done = true;
      clearInterval(this.watch);
      // let go: a collector that keeps its end open (or reads nothing more) held the process alive
      // after its summary, for a minute or for ever, and the next cron run skipped behind its lock
      s.destroy();
    }
  }

  /** Closes without waiting (after another error). */
  discard(): void {
    this.done = true;
    clearInterval(this.watch);
    try { this.udp?.close(); } catch { /* already closed */ }
    this.tcp?.destroy();
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

/** What only a socket says; the rest is the table's (src/system-errors.ts), then libuv's words for
 * the errno ("connection reset by peer"), not "write EXXX". */
const SOCKET_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is the collector running on that port?)',
  ECONNRESET: 'the collector closed the connection',
  EPIPE: 'the collector closed the connection',
  ECONNABORTED: 'the collector closed the connection',
  ETIMEDOUT: 'the connection timed out (the collector stopped answering)',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be looked up (no answer from DNS)',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'no route to the host',
  // UDP: connecting to a broadcast address; a firewall rule refusing the datagrams
  EACCES: 'permission denied (a broadcast address, or a firewall rule)',
  EPERM: 'permission denied (a broadcast address, or a firewall rule)',
  EINVAL: 'not an address this host can send to (an IPv6 link-local address needs an interface)',
  EADDRNOTAVAIL: 'the address cannot be used from this host',
  EMSGSIZE: 'the message is too long for the path',
};

function describe(e: Error): string {
  return systemErrorWords(e, SOCKET_WORDS);
}
