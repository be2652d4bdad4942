/**
 * DHCP (NFStream's DHCP plugin): client facts from the messages sent to port 67 — message type,
 * the options of a REQUEST in order, its requested address (50), parameter request list (55,
 * the "fingerprint"), hostname (12), maximum message size (57), vendor class (60), user class
 * (77), client MAC OUI and address. A flow ends at ACK, NAK, DECLINE or INFORM, and after each
 * message from 0.0.0.0, so each exchange is a flow of its own.
 */
import { definePlugin, PluginFlow, PluginPacket } from '../api';
import { udpPayload } from './bytes';

const TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];
const COOKIE = 236; // fixed BOOTP header, then the magic cookie 99.130.83.99
const ip4 = (b: Uint8Array) => `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
const utf8 = (b: Uint8Array) => Buffer.from(b).toString('utf8');

function message(packet: PluginPacket, flow: PluginFlow): void {
  if (flow.dst_port !== 67) return;
  const d = udpPayload(packet.ipPacket);
  if (!d || d.length < COOKIE + 4 || d[COOKIE] !== 99 || d[COOKIE + 1] !== 130 || d[COOKIE + 2] !== 83 || d[COOKIE + 3] !== 99) return;
  const u = flow.udps;
  const options: number[] = [];
  let type = 0, opt50: string | undefined, opt55: string | undefined;
  for (let at = COOKIE + 4; at < d.length;) {
    const code = d[at];
    if (code === 255) break;
    if (code === 0) { at++; continue; }
    if (at + 1 >= d.length) break;
    const len = d[at + 1];
    const v = d.subarray(at + 2, at + 2 + len);
    if (v.length < len) break;
    if (code === 12 && len > 0) u.dhcp_12 = utf8(v);
    else if (code === 53 && len >= 1) type = v[0];
    else if (code === 60) u.dhcp_60 = utf8(v);
    else if (code === 77) u.dhcp_77 = utf8(v);
    else if (code === 57) u.dhcp_57 = v.reduce((n, b) => n * 256 + b, 0);
    else if (code === 55) opt55 = [...v].join(',');
    else if (code === 50 && len === 4) opt50 = ip4(v);
    options.push(code);
    at += 2 + len;
  }
  if (type === 3) {
    const mac = d.subarray(28, 31);
    u.dhcp_oui = [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
    u.dhcp_options = options;
    u.dhcp_55 = opt55 ?? null;
    u.dhcp_50 = opt50 ?? null;
    const ciaddr = d.subarray(12, 16);
    if (ciaddr.some((b) => b !== 0)) u.dhcp_addr = ip4(ciaddr);
  }
  if ([4, 5, 6, 8].includes(type) || flow.src_ip === '0.0.0.0') flow.expiration_id = -1;
  if (u.dhcp_msg_type === null) u.dhcp_msg_type = TYPES[type] ?? String(type);
}

export default definePlugin({
  name: 'dhcp',
  endsFlows: true,
  endsFlowsOnPorts: [67, 68],
  columns: {
    dhcp_msg_type: 'string', dhcp_options: 'string', dhcp_50: 'string', dhcp_55: 'string', dhcp_12: 'string',
    dhcp_57: 'float64', dhcp_60: 'string', dhcp_77: 'string', dhcp_oui: 'string', dhcp_addr: 'string',
  },
  onInit(packet, flow) {
    Object.assign(flow.udps, {
      dhcp_msg_type: null, dhcp_options: [], dhcp_50: null, dhcp_55: null, dhcp_12: null, dhcp_57: null,
      dhcp_60: null, dhcp_77: null, dhcp_oui: null, dhcp_addr: null,
    });
    message(packet, flow);
  },
  onUpdate(packet, flow) {
    message(packet, flow);
  },
});
