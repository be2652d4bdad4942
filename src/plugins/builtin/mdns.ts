/**
 * mDNS (NFStream's MDNS plugin): the PTR answers of the messages sent to port 5353, in order,
 * each once — the services and hosts a device announces. IPv4 and IPv6.
 */
import { definePlugin, PluginFlow, PluginPacket } from '../api';
import { dnsName, u16, udpPayload } from './bytes';

function answers(packet: PluginPacket, flow: PluginFlow): void {
  if (flow.dst_port !== 5353) return;
  const m = udpPayload(packet.ipPacket);
  if (!m || m.length < 12) return;
  const ptr = flow.udps.mdns_ptr as string[];
  let at = 12;
  for (let q = u16(m, 4); q > 0; q--) { // questions: a name, type, class
    const n = dnsName(m, at);
    if (!n) return;
    at = n.end + 4;
  }
  for (let a = u16(m, 6); a > 0; a--) {
    const n = dnsName(m, at);
    if (!n || n.end + 10 > m.length) return;
    const type = u16(m, n.end), rdlength = u16(m, n.end + 8);
    const rdata = n.end + 10;
    if (rdata + rdlength > m.length) return;
    if (type === 12) {
      const target = dnsName(m, rdata);
      const name = target?.name.replace(/,/g, ' ');
      if (name !== undefined && !ptr.includes(name)) ptr.push(name);
    }
    at = rdata + rdlength;
  }
}

export default definePlugin({
  name: 'mdns',
  columns: { mdns_ptr: 'string' },
  onInit(packet, flow) {
    flow.udps.mdns_ptr = [];
    answers(packet, flow);
  },
  onUpdate(packet, flow) {
    answers(packet, flow);
  },
});
