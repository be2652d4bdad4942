/** IP addresses between the meter's text (inet_ntop's forms) and bytes, for the parts of flowseek
 * that need one from the other: IPFIX records, /proc/net keys, plugin packets. */

/** The 4 or 16 bytes of an address in any text form: IPv4, IPv6 with "::", or a dotted IPv4 tail. */
export function ipBytes(s: string): number[] {
  if (!s.includes(':')) return s.split('.').map(Number);
  // a dotted IPv4 tail (::ffff:1.2.3.4) is two groups; then "::" expands to the missing ones
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => { const n = parseInt(g, 16); return [n >> 8, n & 0xff]; });
}

/** An address as the meter's inet_ntop writes it (glibc's rules for the IPv4 forms). */
export function ipString(b: Uint8Array, at: number, version: number): string {
  if (version !== 6) return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  const v4 = `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) return bestLen === 6 ? `::${v4}` : `::ffff:${v4}`;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) { s += '::'; i += bestLen - 1; continue; }
    if (s && !s.endsWith(':')) s += ':';
    s += w[i].toString(16);
  }
  return s;
}
