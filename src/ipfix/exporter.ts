/**
 * Sends finished flows to an IPFIX collector over UDP (templates resent on a schedule, messages
 * kept under a path MTU) or TCP (templates once, at the start of the stream). One message holds
 * records of one template; a record never splits across messages.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { OutputError } from '../errors';
import { FlowBatch } from '../flow-batch';
import { dataRecord, message, set, Template, templates, templateSet } from './encode';

export interface IpfixTarget {
  transport: 'udp' | 'tcp';
  host: string;
  port: number;
  /** observation domain id */
  domain: number;
  /** UDP: templates again after this long (ms) */
  templateRefreshMs: number;
}

/** UDP messages stay within an Ethernet path MTU; TCP messages may be larger. */
const UDP_MESSAGE = 1400;
const TCP_MESSAGE = 16384;

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
  private closing = false;
  /** the collector failed (refused a datagram, closed or broke the connection) */
  onFailure?: (e: OutputError) => void;
  /** messages and records sent, for the summary */
  messages = 0;
  records = 0;

  constructor(fieldNames: readonly string[], private readonly target: IpfixTarget) {
    this.templates = templates(fieldNames);
    this.ipVersion = fieldNames.indexOf('ip_version');
    this.limit = target.transport === 'udp' ? UDP_MESSAGE : TCP_MESSAGE;
  }

  get label(): string {
    const host = this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host;
    return `${this.target.transport}://${host}:${this.target.port}`;
  }

  async open(): Promise<void> {
    const { host, port } = this.target;
    const fail = (e: Error) => new OutputError(`IPFIX collector ${this.label}: ${describe(e)}`, { cause: e });
    if (this.target.transport === 'tcp') {
      this.tcp = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host, port });
        s.once('connect', () => { s.off('error', reject); resolve(s); });
        s.once('error', (e) => reject(fail(e)));
      });
      this.tcp.on('error', (e) => this.fail(fail(e)));
      // a collector that closes its end takes no more flows: nothing else would say so
      this.tcp.on('end', () => this.fail(new OutputError(`IPFIX collector ${this.label}: the collector closed the connection`)));
      this.tcp.on('close', () => this.fail(new OutputError(`IPFIX collector ${this.label}: the connection closed`)));
      return;
    }
    const family = net.isIPv6(host) ? 'udp6' : 'udp4';
    const s = dgram.createSocket(family);
    await new Promise<void>((resolve, reject) => {
      s.once('error', (e) => reject(fail(e)));
      s.connect(port, host, () => resolve());
    });
    // a collector that is not listening shows as ICMP port unreachable on a later send
    s.on('error', (e) => this.fail(fail(e)));
    this.udp = s;
  }

  async write(batch: FlowBatch): Promise<void> {
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
      await this.send(message(this.header(now), this.templates.map((t) => templateSet([t]))));
      this.templatesSentAt = now;
    }
    await this.send(message(this.header(now), [set(id, Buffer.concat(records))]));
    this.sequence = (this.sequence + records.length) >>> 0;
    this.records += records.length;
  }

  private header(now: number) {
    return { exportTime: Math.floor(now / 1000), sequence: this.sequence, domain: this.target.domain };
  }

  private async send(msg: Buffer): Promise<void> {
    this.throwIfFailed();
    this.messages++;
    if (this.udp) {
      const s = this.udp;
      await new Promise<void>((resolve, reject) => s.send(msg, (e) => (e ? reject(e) : resolve())))
        .catch((e: Error) => { throw new OutputError(`IPFIX collector ${this.label}: ${describe(e)}`, { cause: e }); });
      // let an ICMP error from the previous datagram arrive before the next one
      if (this.messages % 64 === 0) await new Promise((r) => setImmediate(r));
      return;
    }
    const s = this.tcp as net.Socket;
    if (!s.write(msg)) {
      // a connection that breaks while full never drains
      await new Promise<void>((resolve) => {
        const done = () => { s.off('drain', done).off('close', done); resolve(); };
        s.once('drain', done).once('close', done);
      });
      this.throwIfFailed();
    }
  }

  /** A method, not an inline check: after an await TypeScript still believes the check made before
   * it, while a socket callback may have set the failure meanwhile. */
  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** The first failure, once: the run is told at once, not at the next write. */
  private fail(e: OutputError): void {
    if (this.failure || this.closing) return;
    this.failure = e;
    this.onFailure?.(e);
  }

  async close(): Promise<void> {
    this.throwIfFailed();
    if (this.udp) {
      const s = this.udp;
      // a last port-unreachable has a moment to show before the socket goes
      await new Promise((r) => setTimeout(r, 20));
      this.throwIfFailed();
      s.close();
    }
    if (this.tcp) {
      const s = this.tcp;
      this.closing = true;
      await new Promise<void>((resolve) => s.end(resolve));
      this.throwIfFailed();
    }
  }

  /** Closes without waiting (after another error). */
  discard(): void {
    this.closing = true;
    try { this.udp?.close(); } catch { /* already closed */ }
    this.tcp?.destroy();
  }
}

function describe(e: Error & { code?: string }): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'connection refused (is the collector running on that port?)';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'unknown host';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'no route to the host';
    default: return e.message;
  }
}
