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
