/**
 * The output columns: one list, in NFStream's order, that drives every writer, the field
 * reference and the man page. Names are NFStream's.
 */
import { numberDefault } from './option-table';

export type FieldType = 'uint64' | 'int64' | 'uint32' | 'uint16' | 'uint8' | 'int8' | 'float64' | 'string' | 'list<int64>'
  | 'bytes' | 'list<bytes>';
export type FieldGroup = 'base' | 'tunnel' | 'stats' | 'splt' | 'dpi' | 'system' | 'time_us' | 'time_ns' | 'activity' | 'payload'
  | 'header' | 'community' | 'udps';
/** Where a column's values come from in a native batch. */
export type FieldSource = 'base' | 'stats' | 'string' | 'splt' | 'system' | 'fine' | 'activity' | 'payload' | 'header' | 'udps';

export interface Field {
  name: string;
  type: FieldType;
  group: FieldGroup;
  source: FieldSource;
  unit?: string;
  doc: string;
  /** bytes and list<bytes>: bytes per item, and items per row (list<bytes>), set by fieldsFor */
  width?: number;
  items?: number;
}

const f = (name: string, type: FieldType, group: FieldGroup, source: FieldSource, doc: string, unit?: string): Field =>
  ({ name, type, group, source, doc, unit });

const SCOPES = [
  ['bidirectional', 'both directions'],
  ['src2dst', 'the src to dst direction'],
  ['dst2src', 'the dst to src direction'],
] as const;

function timing(): Field[] {
  return SCOPES.flatMap(([s, what]) => [
    f(`${s}_first_seen_ms`, 'uint64', 'base', 'base', `time of the first packet in ${what} (0 if none)`, 'ms since epoch'),
    f(`${s}_last_seen_ms`, 'uint64', 'base', 'base', `time of the last packet in ${what} (0 if none)`, 'ms since epoch'),
    f(`${s}_duration_ms`, 'uint64', 'base', 'base', `last minus first seen in ${what}`, 'ms'),
    f(`${s}_packets`, 'uint64', 'base', 'base', `packets in ${what}`, 'packets'),
    f(`${s}_bytes`, 'uint64', 'base', 'base', `bytes in ${what}, by accounting mode`, 'bytes'),
  ]);
}

/** --time-precision us|ns: the same instants as the *_ms fields, finer (the ms fields stay). */
function fineTiming(unit: 'us' | 'ns'): Field[] {
  const name = unit === 'us' ? 'microseconds' : 'nanoseconds';
  return SCOPES.flatMap(([s, what]) => [
    f(`${s}_first_seen_${unit}`, 'uint64', `time_${unit}`, 'fine', `time of the first packet in ${what}, in ${name} (0 if none)`, `${unit} since epoch`),
    f(`${s}_last_seen_${unit}`, 'uint64', `time_${unit}`, 'fine', `time of the last packet in ${what}, in ${name} (0 if none)`, `${unit} since epoch`),
    f(`${s}_duration_${unit}`, 'uint64', `time_${unit}`, 'fine', `last minus first seen in ${what}, in ${name}`, unit),
  ]);
}

/** --activity-features: CICFlowMeter's rate and active / idle features. */
function activity(): Field[] {
  const rates = SCOPES.flatMap(([s, what]) => [
    f(`${s}_bytes_per_s`, 'float64', 'activity', 'activity', `bytes in ${what} per second of the flow's duration (0 for a single instant)`, 'bytes/s'),
    f(`${s}_packets_per_s`, 'float64', 'activity', 'activity', `packets in ${what} per second of the flow's duration`, 'packets/s'),
  ]);
  const periods = (['active', 'idle'] as const).flatMap((k) => {
    const what = k === 'active'
      ? 'active periods (packets no further apart than --activity-gap; the last one included)'
      : 'idle periods (gaps longer than --activity-gap)';
    return [
      f(`${k}_min_ms`, 'float64', 'activity', 'activity', `shortest of the ${what} (0 if none)`, 'ms'),
      f(`${k}_mean_ms`, 'float64', 'activity', 'activity', `mean of the ${what}`, 'ms'),
      f(`${k}_max_ms`, 'float64', 'activity', 'activity', `longest of the ${what}`, 'ms'),
      f(`${k}_stddev_ms`, 'float64', 'activity', 'activity', `sample standard deviation of the ${what}`, 'ms'),
    ];
  });
  return [...rates, ...periods];
}

function statistics(): Field[] {
  const ps = SCOPES.flatMap(([s, what]) => [
    f(`${s}_min_ps`, 'uint32', 'stats', 'stats', `smallest packet in ${what}`, 'bytes'),
    f(`${s}_mean_ps`, 'float64', 'stats', 'stats', `mean packet size in ${what}`, 'bytes'),
    f(`${s}_stddev_ps`, 'float64', 'stats', 'stats', `sample standard deviation of packet size in ${what}`, 'bytes'),
    f(`${s}_max_ps`, 'uint32', 'stats', 'stats', `largest packet in ${what}`, 'bytes'),
  ]);
  const piat = SCOPES.flatMap(([s, what]) => [
    f(`${s}_min_piat_ms`, 'uint64', 'stats', 'stats', `smallest packet inter-arrival time in ${what}`, 'ms'),
    f(`${s}_mean_piat_ms`, 'float64', 'stats', 'stats', `mean packet inter-arrival time in ${what}`, 'ms'),
    f(`${s}_stddev_piat_ms`, 'float64', 'stats', 'stats', `sample standard deviation of inter-arrival time in ${what}`, 'ms'),
    f(`${s}_max_piat_ms`, 'uint64', 'stats', 'stats', `largest packet inter-arrival time in ${what}`, 'ms'),
  ]);
  const flags = SCOPES.flatMap(([s, what]) =>
    ['syn', 'cwr', 'ece', 'urg', 'ack', 'psh', 'rst', 'fin'].map((fl) =>
      f(`${s}_${fl}_packets`, 'uint64', 'stats', 'stats', `TCP packets with ${fl.toUpperCase()} set in ${what}`, 'packets')));
  return [...ps, ...piat, ...flags];
}

export const FIELDS: readonly Field[] = [
  f('id', 'uint64', 'base', 'base', 'flow number, from 0, in export order'),
  f('expiration_id', 'int8', 'base', 'base', 'why the flow ended: 0 idle timeout or end of input, 1 active timeout, 2 ended early at --max-active-flows, -1 custom'),
  f('src_ip', 'string', 'base', 'string', 'source address: the sender of the first packet'),
  f('src_mac', 'string', 'base', 'string', 'source MAC of the first packet (00:00:00:00:00:00 when the link has none)'),
  f('src_oui', 'string', 'base', 'string', 'first three bytes of src_mac'),
  f('src_port', 'uint16', 'base', 'base', 'source port (0 when not TCP or UDP)'),
  f('dst_ip', 'string', 'base', 'string', 'destination address'),
  f('dst_mac', 'string', 'base', 'string', 'destination MAC of the first packet'),
  f('dst_oui', 'string', 'base', 'string', 'first three bytes of dst_mac'),
  f('dst_port', 'uint16', 'base', 'base', 'destination port (0 when not TCP or UDP)'),
  f('protocol', 'uint8', 'base', 'base', 'IP protocol number'),
  f('ip_version', 'uint8', 'base', 'base', 'IP version, 4 or 6'),
  f('vlan_id', 'uint16', 'base', 'base', 'innermost VLAN id (0 when untagged)'),
  f('tunnel_id', 'uint8', 'tunnel', 'base', 'tunnel decoded: 0 none, 1 GTP-U, 2 CAPWAP, 3 TZSP, 4 VXLAN, 5 GRE'),
  ...timing(),
  ...fineTiming('us'),
  ...fineTiming('ns'),
  ...statistics(),
  ...activity(),
  f('splt_direction', 'list<int64>', 'splt', 'splt', 'direction of each of the first N packets: 0 src2dst, 1 dst2src, -1 none'),
  f('splt_ps', 'list<int64>', 'splt', 'splt', 'size of each of the first N packets, by accounting mode (-1 none)', 'bytes'),
  f('splt_piat_ms', 'list<int64>', 'splt', 'splt', 'inter-arrival time of each of the first N packets (0 for the first, -1 none)', 'ms'),
  f('payload_bytes', 'bytes', 'payload', 'payload', 'the first --payload-bytes bytes of L4 payload, both directions in packet order, zero-padded (hex in CSV and JSON Lines)'),
  f('payload_bytes_len', 'uint32', 'payload', 'payload', 'how many of payload_bytes are real payload', 'bytes'),
  f('header_bytes', 'list<bytes>', 'header', 'header', 'IP and transport headers of the first --header-bytes packets, addresses and ports zeroed, each cut or zero-padded to --header-width bytes'),
  f('header_bytes_packets', 'uint16', 'header', 'header', 'how many rows of header_bytes are real packets', 'packets'),
  f('application_name', 'string', 'dpi', 'string', 'nDPI application, "master.app" (e.g. TLS.Facebook); Unknown if none'),
  f('application_category_name', 'string', 'dpi', 'string', 'nDPI category of the application'),
  f('application_is_guessed', 'uint8', 'dpi', 'base', '1 when nDPI guessed the application (detection gave up)'),
  f('application_confidence', 'uint8', 'dpi', 'base', "nDPI's confidence, in the linked nDPI's numbering: 4.2 (Debian's): 0 unknown, 1 port, 2 IP, 3 DPI cache, 4 DPI. NFStream 6.5's nDPI 4.7 adds 2 nBPF and 4 DPI by flow id, so 4.2's 0 1 2 3 4 are its 0 1 3 5 6"),
  f('requested_server_name', 'string', 'dpi', 'string', 'server name requested: TLS/QUIC SNI, HTTP Host, DNS query'),
  f('client_fingerprint', 'string', 'dpi', 'string', 'JA3 (TLS, QUIC), HASSH client (SSH) or DHCP fingerprint'),
  f('server_fingerprint', 'string', 'dpi', 'string', 'JA3S (TLS) or HASSH server (SSH)'),
  f('user_agent', 'string', 'dpi', 'string', 'HTTP (or QUIC) user agent'),
  f('content_type', 'string', 'dpi', 'string', 'HTTP content type'),
  f('client_ja4', 'string', 'dpi', 'string', 'JA4 fingerprint of the client hello: TLS over TCP (t..., the whole hello in one segment) or QUIC version 1 (q..., the hello in one Initial packet, its AES-GCM tag verified); flowseek addition'),
  f('community_id', 'string', 'community', 'string', 'Community ID v1 of the 5-tuple (seed --community-id-seed), to join with Zeek, Suricata, Elastic'),
  f('system_process_pid', 'uint32', 'system', 'system', 'pid of the local process that owned the flow\'s socket (0 if none found; capture --system-visibility)'),
  f('system_process_name', 'string', 'system', 'system', 'that process\'s name (/proc/<pid>/comm)'),
  f('system_process_cmdline', 'string', 'system', 'system', 'that process\'s command line'),
  f('system_process_uid', 'int64', 'system', 'system', 'that process\'s user id (-1 if no process found)'),
  f('system_process_user', 'string', 'system', 'system', 'the name of that user (getpwuid; empty if it has none)'),
];

export interface SchemaOptions {
  decodeTunnels: boolean;
  stats: boolean;
  splt: number;
  dissections: number;
  systemVisibility?: boolean;
  timePrecision?: TimePrecision;
  activityFeatures?: boolean;
  payloadBytes?: number;
  headerPackets?: number;
  headerWidth?: number;
  communityId?: boolean;
}

export type TimePrecision = 'ms' | 'us' | 'ns';

/** The columns present for these options, in output order. */
export function fieldsFor(o: SchemaOptions): Field[] {
  const on: Record<FieldGroup, boolean> = {
    base: true, tunnel: o.decodeTunnels, stats: o.stats, splt: o.splt > 0, dpi: o.dissections > 0,
    system: o.systemVisibility === true, time_us: o.timePrecision === 'us', time_ns: o.timePrecision === 'ns',
    activity: o.activityFeatures === true, payload: (o.payloadBytes ?? 0) > 0, header: (o.headerPackets ?? 0) > 0,
    community: o.communityId === true, udps: false,
  };
  return FIELDS.filter((x) => on[x.group]).map((x) => {
    if (x.type === 'bytes') return { ...x, width: o.payloadBytes };
    if (x.type === 'list<bytes>') return { ...x, width: o.headerWidth ?? numberDefault('--header-width'), items: o.headerPackets };
    return x;
  });
}
