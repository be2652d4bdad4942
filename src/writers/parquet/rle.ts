/**
 * Parquet's RLE / bit-packing hybrid, for dictionary indices: a value repeated 8 times or more is
 * one run (count, value), anything else bit-packed in groups of 8, lowest bits first.
 */
import { ByteBuilder } from '../bytes';

/** Bits to hold 0..max (at least 1: some readers refuse a width of 0). */
export function bitWidth(max: number): number {
  let w = 1;
  while (max >= 2 ** w) w++;
  return w;
}

function runAt(values: Uint32Array, n: number, i: number): boolean {
  if (i + 8 > n) return false;
  const v = values[i];
  for (let k = i + 1; k < i + 8; k++) if (values[k] !== v) return false;
  return true;
}

/** values[0, n), each below 2^width. */
export function rleHybrid(values: Uint32Array, n: number, width: number, out: ByteBuilder): void {
  const valueBytes = Math.ceil(width / 8);
  let i = 0;
  while (i < n) {
    const v = values[i];
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    if (j - i >= 8) {
      out.varint((j - i) * 2);
      for (let b = 0, x = v; b < valueBytes; b++, x = Math.floor(x / 256)) out.byte(x & 0xff);
      i = j;
      continue;
    }
    // groups of 8 until a long run starts on a group boundary; only the last run is padded
    const start = i;
    let groups = 0;
    do { i += 8; groups++; } while (i < n && !runAt(values, n, i));
    out.varint(groups * 2 + 1);
    let acc = 0;
    let bits = 0;
    for (let k = start; k < start + groups * 8; k++) {
      acc += (k < n ? values[k] : 0) * 2 ** bits;
      bits += width;
      while (bits >= 8) { out.byte(acc & 0xff); acc = Math.floor(acc / 256); bits -= 8; }
    }
    if (bits > 0) out.byte(acc & 0xff); // groups*8*width is a whole number of bytes: never taken
  }
}
