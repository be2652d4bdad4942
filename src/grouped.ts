/**
 * An integer with commas between groups of three digits, as `toLocaleString('en')` writes it.
 * Intl's first use loads ICU data, about 20 ms: longer than a whole read of a small capture.
 */
export function grouped(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const digits = String(Math.abs(Math.round(n)));
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 && out !== '0' ? `-${out}` : out;
}

/** A length of time in the largest unit it fills: "3.2 s", "12 min", "5.0 h", "1,826 days". */
export function span(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${grouped(s / 86_400)} days`;
}
