/**
 * Runs plugins over a meter's batches: the batch's packet events (in packet order) go to each
 * plugin's onInit / onUpdate with the flow's fields as they stood at that packet, finished flows
 * to onExpire; what the hooks put in `flow.udps` becomes udps_<name> columns. A hook that throws
 * is counted (and the run goes on) or, with failFast, ends the run naming plugin and hook.
 */
import { HOOK_TIMEOUT_MS, settleWithin } from './deadline';
import { ipString } from '../ip';
import { NativeBatch } from '../native';
import { Field } from '../schema';
import { Column, FlowBatch } from '../flow-batch';
import { BatchColumns, ColumnType, ExpiredFlow, PluginDefinition, PluginPacket, Udps } from './api';
import { oneLine, takeStrayError } from './contain';
import { PluginError } from './load';

type Events = NonNullable<NativeBatch['events']>;

interface FlowState {
  udps: Udps;
  idx: number;
  uid: number;
  src_ip: string; dst_ip: string; src_port: number; dst_port: number;
  protocol: number; ip_version: number; vlan_id: number; tunnel_id: number;
  /** a plugin ended it: its later packets in the same batch reach no hook */
  ended: boolean;
}

/** The packet a hook sees: reads the event columns at row r. */
class EventPacket implements PluginPacket {
  r = 0;
  constructor(private readonly ev: Events, private readonly c: Record<string, number>) {}
  at(r: number): this { this.r = r; return this; }
  private n(name: string): number { return this.ev.num[this.c[name] + this.r]; }
  get time() { return this.n('time'); }
  get deltaTime() { return this.n('delta_time'); }
  get direction() { return this.n('direction') as 0 | 1; }
  get rawSize() { return this.n('raw_size'); }
  get ipSize() { return this.n('ip_size'); }
  get transportSize() { return this.n('transport_size'); }
  get payloadSize() { return this.n('payload_size'); }
  get srcIp() { return ipString(this.ev.src, 16 * this.r, this.n('ip_version')); }
  get dstIp() { return ipString(this.ev.dst, 16 * this.r, this.n('ip_version')); }
  get srcPort() { return this.n('src_port'); }
  get dstPort() { return this.n('dst_port'); }
  get protocol() { return this.n('protocol'); }
  get ipVersion() { return this.n('ip_version'); }
  get vlanId() { return this.n('vlan_id'); }
  get tunnelId() { return this.n('tunnel_id'); }
  get tcpFlags() { return this.n('tcp_flags'); }
  get fin() { return (this.tcpFlags & 0x01) !== 0; }
  get syn() { return (this.tcpFlags & 0x02) !== 0; }
  get rst() { return (this.tcpFlags & 0x04) !== 0; }
  get psh() { return (this.tcpFlags & 0x08) !== 0; }
  get ack() { return (this.tcpFlags & 0x10) !== 0; }
  get urg() { return (this.tcpFlags & 0x20) !== 0; }
  get ece() { return (this.tcpFlags & 0x40) !== 0; }
  get cwr() { return (this.tcpFlags & 0x80) !== 0; }
  get ipPacket() { const off = this.n('ip_off'); return this.ev.ip.subarray(off, off + this.n('ip_len')); }
  get transportOffset() { return this.n('l4_off'); }
  get transportHeaderSize() { return this.n('l4_header_len'); }
  get payload() { const off = this.n('ip_off') + this.n('payload_off'); return this.ev.ip.subarray(off, off + this.n('payload_caplen')); }
}

const SNAPSHOT = ['bidirectional', 'src2dst', 'dst2src'].flatMap((s) =>
  ['first_seen_ms', 'last_seen_ms', 'duration_ms', 'packets', 'bytes'].map((k) => `${s}_${k}`));
const KEY = ['src_ip', 'dst_ip', 'src_port', 'dst_port', 'protocol', 'ip_version', 'vlan_id', 'tunnel_id'] as const;

/** The flow a hook sees during onInit / onUpdate. */
class EventFlow {
  r = 0;
  state!: FlowState;
  constructor(readonly ev: Events, readonly c: Record<string, number>, private readonly host: PluginHost) {}
  at(r: number, state: FlowState): this { this.r = r; this.state = state; return this; }
  get udps() { return this.state.udps; }
  get expiration_id() { return this.state.ended ? -1 : 0; }
  set expiration_id(v: number) { if (v === -1) this.host.endFlow(this.state); }
}
for (const name of SNAPSHOT) {
  Object.defineProperty(EventFlow.prototype, name, {
    get(this: EventFlow) { return this.ev.num[this.c[name] + this.r]; },
  });
}
for (const name of KEY) {
  Object.defineProperty(EventFlow.prototype, name, { get(this: EventFlow) { return this.state[name]; } });
}

export interface HookFailure { plugin: string; hook: string; count: number; first: string }

export interface PluginHostOptions {
  /** end the run at the first hook that throws (--plugin-errors fail) */
  failFast?: boolean;
  /** a udps column that appeared too late to be written */
  warn?: (message: string) => void;
  /** an async hook (onStart, onBatch) that has not settled after this long ends the run */
  hookTimeoutMs?: number;
}

interface Loaded { def: PluginDefinition; ctx: { name: string; options: Record<string, unknown>; emit(record: Record<string, unknown>): void } }

export class PluginHost {
  private readonly plugins: Loaded[];
  private readonly flows = new Map<number, FlowState>();
  private readonly columns: { key: string; type: ColumnType; plugin: string }[] = [];
  private frozen = false;
  private expire: number[] = [];
  private readonly failures = new Map<string, HookFailure>();
  private readonly lateColumns = new Set<string>();
  private records: Record<string, unknown>[] = [];

  constructor(defs: { def: PluginDefinition; options: Record<string, unknown> }[], private readonly o: PluginHostOptions = {}) {
    const emit = (record: Record<string, unknown>) => { this.records.push(record); };
    this.plugins = defs.map(({ def, options }) => ({ def, ctx: { name: def.name, options: optionsFor(def, options), emit } }));
    for (const { def } of this.plugins) {
      for (const [key, type] of Object.entries(def.columns ?? {})) this.addColumn(key, type, def.name);
    }
  }

  /** some plugin reads finished flows whole (onExpire, onBatch) */
  private get wantsRows(): boolean {
    return this.plugins.some((p) => p.def.onExpire || p.def.onBatch);
  }

  /** some plugin reads finished flows as whole objects (onExpire, or onBatch without columnsOnly) */
  private get fullRows(): boolean {
    return this.plugins.some((p) => p.def.onExpire || (p.def.onBatch && !p.def.columnsOnly));
  }

  /** some plugin has per-packet work (onInit / onUpdate, unless its wantsPackets says not now):
   * without one the meter makes no packet events */
  get wantsPackets(): boolean {
    return this.plugins.some((p) => (p.def.onInit || p.def.onUpdate) && (p.def.wantsPackets?.call(p.ctx) ?? true));
  }

  /** some plugin declares it ends flows: the run starts in exact mode (one packet per flow per
   * batch); without it the run switches to exact mode at the first end (see FlowStreamer) */
  get endsFlows(): boolean {
    return this.plugins.some((p) => p.def.endsFlows === true);
  }

  /** The ports of the flows plugins may end, or undefined for every flow. */
  get endPorts(): number[] | undefined {
    const enders = this.plugins.filter((p) => p.def.endsFlows === true);
    if (enders.some((p) => !Array.isArray(p.def.endsFlowsOnPorts))) return undefined;
    return [...new Set(enders.flatMap((p) => p.def.endsFlowsOnPorts as number[]))];
  }

  /** udps columns known so far, as output fields. */
  udpsFields(): Field[] {
    return this.columns.map(({ key, type, plugin }) => ({
      name: `udps_${key}`, type, group: 'udps', source: 'udps', doc: `set by plugin ${plugin}`,
    }));
  }

  get hookFailures(): HookFailure[] {
    return [...this.failures.values()];
  }

  private addColumn(key: string, type: ColumnType, plugin: string): void {
    if (this.columnKeys.has(key)) return;
    if (this.frozen) {
      if (!this.lateColumns.has(key)) {
        this.lateColumns.add(key);
        this.o.warn?.(`plugin ${plugin}: udps.${key} first appeared after the output began; it is not written (set it in onInit, or declare it in "columns")`);
      }
      return;
    }
    this.columns.push({ key, type, plugin });
    this.columnKeys.add(key);
  }
  private readonly columnKeys = new Set<string>();

  private failed(p: Loaded, hook: string, e: unknown): void {
    const msg = oneLine(e instanceof Error ? e.message : String(e));
    if (this.o.failFast || (e as { fatal?: boolean } | undefined)?.fatal) throw new PluginError(`plugin ${p.def.name}: ${hook} threw: ${msg}`, { cause: e });
    const k = `${p.def.name}\0${hook}`;
    const f = this.failures.get(k);
    if (f) { f.count++; return; }
    this.failures.set(k, { plugin: p.def.name, hook, count: 1, first: msg });
  }

  /** Whether the meter holds this flow to one packet per batch, so that an end is exact. */
  exactFor: (flow: { src_port: number; dst_port: number }) => boolean = () => false;
  /** a hook ended a flow the meter did not hold to one packet per batch: that end comes late */
  inexactEnd = false;

  endFlow(state: FlowState): void {
    if (state.ended) return;
    state.ended = true;
    if (!this.exactFor(state)) this.inexactEnd = true;
    this.expire.push(state.idx, state.uid);
  }

  /** The run starts over (files re-read in exact mode): no flow, no pending end, no failure
   * counted yet (the hooks that threw will run again). Columns and plugin objects stay. */
  restart(): void {
    this.flows.clear();
    this.expire = [];
    this.failures.clear();
    this.inexactEnd = false;
  }

  /** Flows already yielded before a restart: their state goes, no onExpire runs twice. */
  forget(uids: ArrayLike<number>): void {
    for (let i = 0; i < uids.length; i++) this.flows.delete(uids[i]);
  }

  /** What the plugins emitted since the last call (PluginContext.emit). */
  takeRecords(): Record<string, unknown>[] {
    const out = this.records;
    if (out.length) this.records = [];
    return out;
  }

  /** [slot, uid, ...] of the flows plugins ended, for the meter's next batch. */
  takeExpired(): Float64Array | undefined {
    if (!this.expire.length) return undefined;
    const out = Float64Array.from(this.expire);
    this.expire = [];
    return out;
  }

  /** the plugins whose onInit / onUpdate have work this run (known after start) */
  private get packetPlugins(): Loaded[] {
    return (this.packetPluginList ??= this.plugins.filter((p) => (p.def.onInit || p.def.onUpdate) && (p.def.wantsPackets?.call(p.ctx) ?? true)));
  }
  private packetPluginList?: Loaded[];

  /** onInit / onUpdate for each packet event, in packet order. */
  packets(ev: Events): void {
    const c: Record<string, number> = {};
    ev.names.forEach((name, i) => { c[name] = i * ev.n; });
    const num = ev.num;
    const packet = new EventPacket(ev, c);
    const flow = new EventFlow(ev, c, this);
    for (let r = 0; r < ev.n; r++) {
      const uid = num[c.uid + r];
      let state = this.flows.get(uid);
      const first = num[c.first + r] === 1;
      if (first || !state) {
        const v = num[c.ip_version + r];
        state = {
          udps: {}, idx: num[c.idx + r], uid, ended: false,
          src_ip: ipString(ev.src, 16 * r, v), dst_ip: ipString(ev.dst, 16 * r, v),
          src_port: num[c.src_port + r], dst_port: num[c.dst_port + r], protocol: num[c.protocol + r], ip_version: v,
          vlan_id: num[c.vlan_id + r], tunnel_id: num[c.tunnel_id + r],
        };
        this.flows.set(uid, state);
      }
      if (state.ended) continue;
      packet.at(r);
      flow.at(r, state);
      for (const p of this.packetPlugins) {
        const hook = first ? p.def.onInit : p.def.onUpdate;
        if (!hook) continue;
        try {
          hook.call(p.ctx, packet, flow as unknown as Parameters<typeof hook>[1]);
        } catch (e) {
          this.failed(p, first ? 'onInit' : 'onUpdate', e);
        }
      }
    }
  }

  private bare(): FlowState {
    return { udps: {}, idx: -1, uid: -1, ended: false, src_ip: '', dst_ip: '', src_port: 0, dst_port: 0, protocol: 0, ip_version: 0, vlan_id: 0, tunnel_id: 0 };
  }

  /** onStart of each plugin, in order; a plugin that cannot start ends the run. */
  async start(): Promise<void> {
    if (!this.plugins.some((p) => p.def.onStart)) return;
    for (const p of this.plugins) {
      if (!p.def.onStart) continue;
      try {
        await settleWithin(p.def.onStart.call(p.ctx), this.hookTimeoutMs, `plugin ${p.def.name}: onStart`);
      } catch (e) {
        if (e instanceof PluginError) throw e;
        throw new PluginError(`plugin ${p.def.name}: ${oneLine(String((e as Error).message ?? e))}`, { cause: e });
      }
    }
    // a rejection onStart left unawaited is reported after this turn: it fails the start, before
    // any output is opened (where the CLI catches stray errors: see contain.ts)
    await new Promise((resolve) => setImmediate(resolve));
    const stray = takeStrayError();
    if (stray) throw stray;
  }

  /** An async hook: a throw is counted (failed()); not settling within the timeout ends the run. */
  private async awaitHook(p: Loaded, hook: string, call: () => unknown): Promise<void> {
    try {
      await settleWithin(call(), this.hookTimeoutMs, `plugin ${p.def.name}: ${hook}`);
    } catch (e) {
      if (e instanceof PluginError) throw e;
      this.failed(p, hook, e);
    }
  }

  /** onExpire for each finished flow, then onBatch; the batch with the udps columns added. */
  async finish(batch: FlowBatch, uids: Float64Array): Promise<FlowBatch> {
    for (const p of this.plugins) {
      const hook = p.def.onPackets;
      if (hook) await this.awaitHook(p, 'onPackets', () => hook.call(p.ctx));
    }
    const states: (FlowState | undefined)[] = [];
    const expired: ExpiredFlow[] = [];
    const rows: number[] = [];
    const full = this.fullRows, wants = this.wantsRows;
    const expiration = batch.columns[batch.fields.findIndex((f) => f.name === 'expiration_id')] as Float64Array;
    for (let r = 0; r < batch.length; r++) {
      // no packet event made its state (no plugin wants packets): it starts and ends here
      const state = this.flows.get(uids[r]) ?? (wants ? this.bare() : undefined);
      this.flows.delete(uids[r]);
      states.push(state);
      if (!state) continue;
      // a plugin ended it, and it ended in this very batch (end of input, a timeout): its end is the plugin's
      if (state.ended) expiration[r] = -1;
      if (!wants) continue;
      const row = full ? { ...batch.row(r), udps: state.udps } : { udps: state.udps };
      expired.push(row);
      rows.push(r);
      for (const p of this.plugins) {
        if (!p.def.onExpire) continue;
        try { p.def.onExpire.call(p.ctx, row); } catch (e) { this.failed(p, 'onExpire', e); }
      }
    }
    for (const p of this.plugins) {
      const hook = p.def.onBatch;
      if (hook && expired.length) await this.awaitHook(p, 'onBatch', () => hook.call(p.ctx, expired, columnsOf(batch, rows)));
    }
    for (const s of states) {
      if (!s) continue;
      for (const key in s.udps) {
        if (this.columnKeys.has(key)) continue;
        const v = s.udps[key];
        if (v !== undefined && v !== null) this.addColumn(key, typeof v === 'number' || typeof v === 'boolean' ? 'float64' : 'string', this.ownerOf(key));
      }
    }
    if (batch.length) this.frozen = true;
    const columns: Column[] = this.columns.map(({ key, type, plugin }) => {
      if (type === 'string') return states.map((s) => this.text(s?.udps[key], plugin, key));
      const out = new Float64Array(batch.length);
      states.forEach((s, r) => {
        const v = s?.udps[key];
        out[r] = number(v, type);
        if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v)) && typeof v !== 'boolean') this.misfit(v, type, plugin, key);
      });
      return out;
    });
    return new FlowBatch([...batch.fields, ...this.udpsFields()], [...batch.columns, ...columns], batch.length);
  }

  private get hookTimeoutMs(): number {
    return this.o.hookTimeoutMs ?? HOOK_TIMEOUT_MS;
  }

  /** A value as text; one that cannot be (a BigInt, a cycle, a function) counts as its plugin's
   * hook error and is written empty. */
  private text(v: unknown, plugin: string, key: string): string {
    try {
      const t = text(v);
      if (typeof t === 'string') return t;
      throw new Error(`a ${typeof v} cannot be written`);
    } catch (e) {
      this.failed(this.named(plugin), `udps.${key}`, e);
      return '';
    }
  }

  /** A value its column's type cannot hold (text in a column typed from numbers, no number in an
   * integer column) was written empty, or 0, without a word: it counts as its plugin's hook error. */
  private misfit(v: unknown, type: ColumnType, plugin: string, key: string): void {
    if (typeof v === 'number' && type === 'float64') return; // NaN and infinities are floats
    const declared = this.declarer(key) !== undefined;
    const column = declared ? `a column declared ${type}` : 'a column of numbers (typed float64 from its first values)';
    const written = type === 'float64' ? 'written empty' : 'written 0';
    const what = typeof v === 'number' ? String(v) : `a ${typeof v}`;
    this.failed(this.named(plugin), `udps.${key}`, new Error(`${what} in ${column}: ${written}${declared ? '' : ` (declare it 'string' in the plugin's columns to keep text)`}`));
  }

  /** The plugin of a column's owner name (ownerOf), whose hook error a bad value counts as. */
  private named(plugin: string): Loaded {
    return this.plugins.find((x) => x.def.name === plugin) ?? this.plugins[0];
  }

  /** The plugin that declares column key in its columns, if one does. */
  private declarer(key: string): Loaded | undefined {
    return this.plugins.find((p) => p.def.columns && key in p.def.columns);
  }

  private ownerOf(key: string): string {
    return (this.declarer(key) ?? this.plugins[0]).def.name;
  }

  /** onCleanup, once, after the last batch. */
  cleanup(): void {
    for (const p of this.plugins) {
      if (!p.def.onCleanup) continue;
      try { p.def.onCleanup.call(p.ctx); } catch (e) { this.failed(p, 'onCleanup', e); }
    }
  }
}

function columnsOf(batch: FlowBatch, rows: number[]): BatchColumns {
  return {
    rows,
    column(name: string) {
      const i = batch.fields.findIndex((f) => f.name === name);
      return i < 0 ? undefined : batch.columns[i];
    },
  };
}

/** The plugin's defaults, then every key=value, then name.key=value for this plugin only. */
function optionsFor(def: PluginDefinition, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(def.options ?? {}) };
  for (const [k, v] of Object.entries(given)) if (!k.includes('.')) out[k] = v;
  for (const [k, v] of Object.entries(given)) if (k.startsWith(`${def.name}.`)) out[k.slice(def.name.length + 1)] = v;
  return out;
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A missing or non-numeric value: NaN for float64 (empty in CSV, null in JSON), 0 for integers. */
function number(v: unknown, type: ColumnType): number {
  const n = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : NaN;
  if (type === 'float64') return n;
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}
