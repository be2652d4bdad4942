/**
 * The plugin interface (NFStream's NFPlugin): hooks that see each packet of a flow with the
 * flow's fields as they stand at that packet, and add columns through `flow.udps`.
 *
 *   export default definePlugin({
 *     name: 'custom_size', options: { size: 555 },
 *     onInit(packet, flow) { flow.udps.with_size = packet.rawSize === this.options.size ? 1 : 0; },
 *     onUpdate(packet, flow) { if (packet.rawSize === this.options.size) flow.udps.with_size++; },
 *   });
 */

/** One packet, as NFStream's NFPacket offers it. */
export interface PluginPacket {
  /** ms since epoch */
  readonly time: number;
  /** ms since the flow's previous packet (0 for its first) */
  readonly deltaTime: number;
  /** 0 src2dst, 1 dst2src */
  readonly direction: 0 | 1;
  readonly rawSize: number;
  readonly ipSize: number;
  readonly transportSize: number;
  readonly payloadSize: number;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly protocol: number;
  readonly ipVersion: number;
  readonly vlanId: number;
  readonly tunnelId: number;
  /** FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
  readonly tcpFlags: number;
  readonly syn: boolean; readonly ack: boolean; readonly fin: boolean; readonly rst: boolean;
  readonly psh: boolean; readonly urg: boolean; readonly ece: boolean; readonly cwr: boolean;
  /** the IP packet as captured (header included): a view; copy it to keep it past the hook */
  readonly ipPacket: Uint8Array;
  /** where the transport header starts in ipPacket, and its length (TCP data offset, UDP/ICMP 8) */
  readonly transportOffset: number;
  readonly transportHeaderSize: number;
  /** the TCP or UDP payload as captured (within the IP length): what payload_bytes is made of */
  readonly payload: Uint8Array;
}

/** What a hook may write: the plugin's columns, output as udps_<name>. */
export type Udps = Record<string, unknown>;

/** A flow during onInit / onUpdate: its key and counters as they stand at this packet. */
export interface PluginFlow {
  readonly src_ip: string; readonly dst_ip: string;
  readonly src_port: number; readonly dst_port: number;
  readonly protocol: number; readonly ip_version: number; readonly vlan_id: number; readonly tunnel_id: number;
  readonly bidirectional_first_seen_ms: number; readonly bidirectional_last_seen_ms: number;
  readonly bidirectional_duration_ms: number; readonly bidirectional_packets: number; readonly bidirectional_bytes: number;
  readonly src2dst_first_seen_ms: number; readonly src2dst_last_seen_ms: number;
  readonly src2dst_duration_ms: number; readonly src2dst_packets: number; readonly src2dst_bytes: number;
  readonly dst2src_first_seen_ms: number; readonly dst2src_last_seen_ms: number;
  readonly dst2src_duration_ms: number; readonly dst2src_packets: number; readonly dst2src_bytes: number;
  /** set to -1 to end the flow here (NFStream's custom expiration) */
  expiration_id: number;
  readonly udps: Udps;
}

/** At expiry: every computed column of the flow, and its udps. */
export type ExpiredFlow = Record<string, unknown> & { readonly udps: Udps };

export type ColumnType = 'float64' | 'int64' | 'uint32' | 'string';

export interface PluginDefinition<O extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  /** defaults; --plugin-option key=value overrides them */
  options?: O;
  /** udps columns and their types, known before the first flow (otherwise inferred from the
   * values the hooks set: numbers float64, anything else text) */
  columns?: Record<string, ColumnType>;
  /** the hooks may end flows (flow.expiration_id = -1): the meter then hands over at most one
   * packet per flow per batch, so a flow ends exactly at the packet whose hook ended it (the next
   * packet starts a new flow). Without it, an end takes effect after the current batch. */
  endsFlows?: boolean;
  /** with endsFlows: only flows with one of these ports (either end) can be ended, so only they
   * are held to one packet per batch — the price of exactness falls on them alone */
  endsFlowsOnPorts?: number[];
  /** after onStart: whether onInit / onUpdate have work in this run; false spares the meter
   * making packet events for this plugin (the model plugin needs them only with predictAt) */
  wantsPackets?(this: PluginContext<O>): boolean;
  onInit?(this: PluginContext<O>, packet: PluginPacket, flow: PluginFlow): void;
  onUpdate?(this: PluginContext<O>, packet: PluginPacket, flow: PluginFlow): void;
  onExpire?(this: PluginContext<O>, flow: ExpiredFlow): void;
  /** once before the first packet, awaited (load a model, open a file); a throw ends the run */
  onStart?(this: PluginContext<O>): Promise<void> | void;
  /** after onExpire, the flows ending in this batch together, awaited: work that is cheaper or
   * only possible in bulk or asynchronously (the model plugin runs its model here). `columns`
   * reads the same flows column-wise (flows[i] is row rows[i]), without a copy per flow. */
  onBatch?(this: PluginContext<O>, flows: ExpiredFlow[], columns: BatchColumns): Promise<void> | void;
  /** onBatch reads the flows' columns through `columns` alone: the flows it gets carry only their
   * udps, sparing a copy of every column per flow (unless another plugin wants them) */
  columnsOnly?: boolean;
  /** after onInit / onUpdate have seen a batch of packets and before the flows ending in it
   * reach onExpire, awaited: bulk work on what those hooks gathered about flows still open (the
   * model plugin's early predictions). Runs at every batch, flows ending or not. */
  onPackets?(this: PluginContext<O>): Promise<void> | void;
  /** once, after the last flow */
  onCleanup?(this: PluginContext<O>): void;
}

export interface PluginContext<O> {
  readonly name: string;
  readonly options: O;
  /** a record for the run's plugin record stream (the model plugin's --predictions file, one
   * JSON line each), written by the main process as the run goes */
  emit(record: Record<string, unknown>): void;
}

/** One column of a batch, as the writers get it. */
export type BatchColumn = Float64Array | BigUint64Array | string[]
  /** lists (SPLT): n values a row */
  | { n: number; values: ArrayLike<number> }
  /** bytes: width bytes a row, or items arrays of width bytes */
  | { width: number; items?: number; bytes: Uint8Array };

/** The flows of onBatch column-wise. */
export interface BatchColumns {
  /** the batch row of each flow handed to onBatch */
  readonly rows: readonly number[];
  /** a column by its name (payload_bytes, splt_ps, bidirectional_bytes...), or undefined if the run does not have it */
  column(name: string): BatchColumn | undefined;
}

/** Only adds types: a plain object with the same hooks works as well. */
export function definePlugin<O extends Record<string, unknown>>(p: PluginDefinition<O>): PluginDefinition<O> {
  return p;
}
