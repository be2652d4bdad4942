import * as os from 'node:os';

const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** typed arrays hold numbers in the host's order: copied whole only where that is little-endian */
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** How numbers() writes each value: as float64(), uint32(), int32() or int64() would. */
export type NumberKind = 'f64' | 'u32' | 'i32' | 'i64';

/** numbers()' conversions, reused */
let scratch = new Uint32Array(4096);

/** A whole number's two 32-bit words as a two's-complement 64-bit integer (beyond INT64's range:
 * clamped): the high one, signed, then the low one, given the high. */
const int64High = (v: number) => Math.max(-0x80000000, Math.min(0x7fffffff, Math.floor(v / 0x100000000)));
const int64Low = (v: number, hi: number) => (v >= 2 ** 63 ? 0xffffffff : v < -(2 ** 63) ? 0 : v - hi * 0x100000000);

/** A growable little-endian byte buffer: where Parquet pages and CSV/JSONL text are assembled
 * without building intermediate strings. */
export class ByteBuilder {
  private buf: Buffer;
  length = 0;
  /** the leading digits (value / 1e6) of the last large number written, and their text */
  private hi = -1;
  private hiText = Buffer.alloc(0);

  constructor(capacity = 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b & 0xff;
  }

  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
  }

  /** Unsigned LEB128 varint of a non-negative integer below 2^53. */
  varint(n: number): void {
    this.reserve(8);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  int32(v: number): void {
    this.reserve(4);
    this.buf.writeInt32LE(v | 0, this.length);
    this.length += 4;
  }

  uint32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }

  /** A whole number as a two's-complement 64-bit integer (beyond INT64's range: clamped). */
  int64(v: number): void {
    this.reserve(8);
    const hi = int64High(v);
    const lo = int64Low(v, hi);
    this.buf.writeUInt32LE(lo, this.length);
    this.buf.writeInt32LE(hi, this.length + 4);
    this.length += 8;
  }

  /** A 64-bit integer from a bigint (nanosecond times pass 2^53). */
  bigint64(v: bigint): void {
    this.reserve(8);
    this.buf.writeBigInt64LE(BigInt.asIntN(64, v), this.length);
    this.length += 8;
  }

  /** Bytes [from, to) of src as lowercase hex digits. */
  hex(src: Uint8Array, from: number, to: number): void {
    this.reserve(2 * (to - from));
    for (let i = from; i < to; i++) {
      const b = src[i];
      this.buf[this.length++] = HEX[b >> 4];
      this.buf[this.length++] = HEX[b & 15];
    }
  }

  /** `items` arrays of `width` bytes from `at`, as a JSON array of hex strings; quote is how a
   * double quote is written ('"' in JSON, '""' inside a CSV cell). */
  hexList(src: Uint8Array, at: number, width: number, items: number, quote: string): void {
    this.byte(0x5b);
    for (let k = 0; k < items; k++) {
      if (k) this.byte(0x2c);
      this.text(quote);
      this.hex(src, at + k * width, at + (k + 1) * width);
      this.text(quote);
    }
    this.byte(0x5d);
  }

  /** Values [from, to) of src, each as the method of that kind writes it, in one copy: a call per
   * value was most of a Parquet page's time. A typed array's set() converts as >>> 0 and | 0 do. */
  numbers(src: Float64Array, from: number, to: number, kind: NumberKind): void {
    const n = to - from;
    if (n <= 0) return;
    if (!LITTLE_ENDIAN) {
      const one = kind === 'f64' ? this.float64 : kind === 'u32' ? this.uint32 : kind === 'i32' ? this.int32 : this.int64;
      for (let r = from; r < to; r++) one.call(this, src[r]);
      return;
    }
    if (kind === 'f64') {
      this.bytes(new Uint8Array(src.buffer, src.byteOffset + from * 8, n * 8));
      return;
    }
    const words = kind === 'i64' ? 2 * n : n;
    if (scratch.length < words) scratch = new Uint32Array(Math.max(words, 2 * scratch.length));
    if (kind === 'u32') scratch.set(src.subarray(from, to));
    else if (kind === 'i32') new Int32Array(scratch.buffer, 0, n).set(src.subarray(from, to));
    else {
      const signed = new Int32Array(scratch.buffer, 0, words);
      for (let i = 0; i < n; i++) {
        const v = src[from + i];
        const hi = int64High(v);
        scratch[2 * i] = int64Low(v, hi);
        signed[2 * i + 1] = hi;
      }
    }
    this.bytes(new Uint8Array(scratch.buffer, 0, words * 4));
  }

  float64(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }

  /** Bytes made once (a JSON key with its punctuation): one copy, no UTF-8 encoding on the way
   * (measured: a third less time for a JSON Lines row than Buffer.write, a fifth less than a loop). */
  raw(src: Uint8Array): void {
    const n = src.length;
    this.reserve(n);
    this.buf.set(src, this.length);
    this.length += n;
  }

  /** Text, as UTF-8. */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  /** A string of printable ASCII without `"` and `\\` (and, for CSV, without `,`) written as it is;
   * false, having written nothing, when it needs the slow path (quoting, escaping, UTF-8). Short
   * strings by hand: a Buffer.write call costs more than the copy. */
  plain(s: string, csv: boolean): boolean {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || (csv && c === 0x2c)) return false;
      buf[at++] = c;
    }
    this.length = at;
    return true;
  }

  /** A number as JSON and CSV write it: whole numbers digit by digit, others by String(). */
  number(v: number): void {
    if (v >= 0 && v < 1e9 && (v | 0) === v) {
      // digit by digit in int arithmetic
      this.reserve(10);
      const buf = this.buf;
      let x = v | 0;
      const digits = x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : x < 100000 ? 5 : x < 1000000 ? 6
        : x < 10000000 ? 7 : x < 100000000 ? 8 : 9;
      let at = this.length + digits;
      this.length = at;
      do { buf[--at] = 48 + (x % 10); x = (x / 10) | 0; } while (x);
      return;
    }
    if (v >= 1e9 && v < 2 ** 53 && Number.isInteger(v)) {
      // millisecond timestamps: a batch's share their leading digits, kept as bytes; then six digits
      const hi = Math.floor(v / 1e6);
      if (hi !== this.hi) { this.hi = hi; this.hiText = Buffer.from(String(hi), 'latin1'); }
      const head = this.hiText;
      this.reserve(head.length + 6);
      const buf = this.buf;
      let at = this.length;
      for (let i = 0; i < head.length; i++) buf[at++] = head[i];
      this.length = at + 6;
      at += 6;
      let x = (v - hi * 1e6) | 0;
      for (let i = 0; i < 6; i++) { buf[--at] = 48 + (x % 10); x = (x / 10) | 0; }
      return;
    }
    if (Number.isInteger(v) && v < 0 && v > -(2 ** 53)) {
      this.byte(0x2d);
      this.number(-v);
      return;
    }
    this.text(String(v));
  }

  /** Length-prefixed UTF-8 (Parquet's PLAIN BYTE_ARRAY). */
  string32(s: string): void {
    const n = Buffer.byteLength(s);
    this.reserve(4 + n);
    this.buf.writeUInt32LE(n, this.length);
    this.buf.write(s, this.length + 4, 'utf8');
    this.length += 4 + n;
  }

  /** The bytes so far (a view: copy it before the builder is used again). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}
