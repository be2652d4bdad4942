/**
 * The FlatBuffers that frame Arrow IPC messages, written front to back: a table's vtable, then the
 * table, then what it points to (FlatBuffers offsets point forward; a vtable may sit before). Every
 * scalar is aligned to its size from the buffer's start, as Arrow's verifier checks.
 */

export type Fb =
  | { t: 'u8' | 'bool'; v: number }
  | { t: 'i16'; v: number }
  | { t: 'i32'; v: number }
  | { t: 'i64'; v: number }
  | { t: 'string'; v: string }
  | { t: 'table'; fields: (Fb | undefined)[] }
  | { t: 'tables'; items: Fb[] }
  /** a vector of structs of longs (FieldNode, Buffer): each item `longs` int64s; `blocks`: Arrow
   * file Blocks (long, int + 4 bytes padding, long) */
  | { t: 'longs'; items: number[][] };

const SIZE: Record<string, number> = { u8: 1, bool: 1, i16: 2, i32: 4, i64: 8 };

export const u8 = (v: number): Fb => ({ t: 'u8', v });
export const bool = (v: boolean): Fb => ({ t: 'bool', v: v ? 1 : 0 });
export const i16 = (v: number): Fb => ({ t: 'i16', v });
export const i32 = (v: number): Fb => ({ t: 'i32', v });
export const i64 = (v: number): Fb => ({ t: 'i64', v });
export const str = (v: string): Fb => ({ t: 'string', v });
export const table = (...fields: (Fb | undefined)[]): Fb => ({ t: 'table', fields });
export const tables = (items: Fb[]): Fb => ({ t: 'tables', items });
export const longs = (items: number[][]): Fb => ({ t: 'longs', items });

class Out {
  buf = Buffer.alloc(512);
  at = 0;

  reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next);
    this.buf = next;
  }

  align(n: number, extra = 0): void {
    while ((this.at + extra) % n) { this.reserve(1); this.buf[this.at++] = 0; }
  }

  skip(n: number): number {
    this.reserve(n);
    const p = this.at;
    this.at += n;
    return p;
  }
}

function scalar(o: Out, pos: number, f: Fb): void {
  switch (f.t) {
    case 'u8': case 'bool': o.buf.writeUInt8(f.v, pos); break;
    case 'i16': o.buf.writeInt16LE(f.v, pos); break;
    case 'i32': o.buf.writeInt32LE(f.v, pos); break;
    case 'i64': o.buf.writeBigInt64LE(BigInt(f.v), pos); break;
    default: throw new Error('not a scalar');
  }
}

/** Writes f (a table, string or vector) and returns where it starts. */
function object(o: Out, f: Fb): number {
  if (f.t === 'string') {
    const b = Buffer.from(f.v, 'utf8');
    o.align(4);
    const p = o.skip(4 + b.length + 1);
    o.buf.writeUInt32LE(b.length, p);
    b.copy(o.buf, p + 4);
    return p;
  }
  if (f.t === 'longs') {
    const per = f.items[0]?.length ?? 1;
    o.align(8, 4);
    const p = o.skip(4 + f.items.length * per * 8);
    o.buf.writeUInt32LE(f.items.length, p);
    f.items.forEach((item, i) => item.forEach((v, k) => o.buf.writeBigInt64LE(BigInt(v), p + 4 + (i * per + k) * 8)));
    return p;
  }
  if (f.t === 'tables') {
    o.align(4);
    const p = o.skip(4 + 4 * f.items.length);
    o.buf.writeUInt32LE(f.items.length, p);
    f.items.forEach((item, i) => {
      const slot = p + 4 + 4 * i;
      const target = object(o, item); // may grow o.buf: read it after
      o.buf.writeUInt32LE(target - slot, slot);
    });
    return p;
  }
  if (f.t !== 'table') throw new Error('a scalar is not an object');
  // inline layout: the soffset to the vtable, then each field aligned to its size
  const layout: number[] = [];
  let size = 4;
  f.fields.forEach((x, i) => {
    if (!x) return;
    const n = SIZE[x.t] ?? 4;
    size = Math.ceil(size / n) * n;
    layout[i] = size;
    size += n;
  });
  o.align(2);
  const vtable = o.skip(4 + 2 * f.fields.length);
  o.buf.writeUInt16LE(4 + 2 * f.fields.length, vtable);
  o.buf.writeUInt16LE(size, vtable + 2);
  f.fields.forEach((_, i) => o.buf.writeUInt16LE(layout[i] ?? 0, vtable + 4 + 2 * i));
  o.align(8);
  const start = o.skip(size);
  o.buf.writeInt32LE(start - vtable, start);
  f.fields.forEach((x, i) => { if (x && SIZE[x.t]) scalar(o, start + layout[i], x); });
  f.fields.forEach((x, i) => {
    if (!x || SIZE[x.t]) return;
    const slot = start + layout[i];
    const target = object(o, x); // may grow o.buf: read it after
    o.buf.writeUInt32LE(target - slot, slot);
  });
  return start;
}

/** A finished buffer with `root` as its root table, padded to 8 bytes. */
export function finish(root: Fb): Buffer {
  const o = new Out();
  o.skip(4);
  const p = object(o, root);
  o.buf.writeUInt32LE(p, 0);
  o.align(8);
  return o.buf.subarray(0, o.at);
}
