/** Reading packets in the shipped plugins: where the UDP payload starts, DNS names. Every read
 * is bounds-checked; a short or malformed packet gives undefined, never an exception. */

/** The UDP payload of an IPv4 or IPv6 packet (no IPv6 extension headers), or undefined. */
export function udpPayload(ip: Uint8Array): Uint8Array | undefined {
  if (ip.length < 1) return undefined;
  const version = ip[0] >> 4;
  let l4: number;
  if (version === 4) {
    l4 = (ip[0] & 15) * 4;
    if (l4 < 20 || ip.length < l4 || ip[9] !== 17) return undefined;
  } else if (version === 6) {
    l4 = 40;
    if (ip.length < 40 || ip[6] !== 17) return undefined;
  } else return undefined;
  return ip.length >= l4 + 8 ? ip.subarray(l4 + 8) : undefined;
}

export const u16 = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];

/** A DNS name at `at` (compression pointers followed; a name of more than 256 labels and
 * pointers is taken as a loop); its end is where the name's own bytes stop. */
export function dnsName(msg: Uint8Array, at: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; hops < 256; hops++) { // labels and pointers together: a loop ends here
    if (at >= msg.length) return undefined;
    const len = msg[at];
    if (len === 0) { if (end < 0) end = at + 1; return { name: labels.join('.'), end }; }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) return undefined;
      if (end < 0) end = at + 2;
      at = ((len & 0x3f) << 8) | msg[at + 1];
      continue;
    }
    if (len > 63 || at + 1 + len > msg.length) return undefined;
    labels.push(Buffer.from(msg.subarray(at + 1, at + 1 + len)).toString('utf8'));
    at += 1 + len;
  }
  return undefined;
}
