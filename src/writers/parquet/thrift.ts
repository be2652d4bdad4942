/**
 * Thrift's compact protocol, only the writing half and only what Parquet's footer and page
 * headers use: structs (and unions, written as structs of one field), i8, i32, i64, strings and
 * binary, booleans and lists.
 */
import { ByteBuilder } from '../bytes';

export const T = { TRUE: 1, FALSE: 2, I8: 3, I16: 4, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

export class CompactWriter {
  readonly out = new ByteBuilder(256);
  private lastIds: number[] = [];
  private lastId = 0;

  private header(id: number, type: number): void {
    const delta = id - this.lastId;
    if (delta > 0 && delta <= 15) this.out.byte((delta << 4) | type);
    else {
      this.out.byte(type);
      this.out.varint(zigzag(id));
    }
    this.lastId = id;
  }

  /** A struct as a list element or the top level (no field header). */
  begin(): this {
    this.lastIds.push(this.lastId);
    this.lastId = 0;
    return this;
  }

  end(): this {
    this.out.byte(0);
    this.lastId = this.lastIds.pop() ?? 0;
    return this;
  }

  struct(id: number): this {
    this.header(id, T.STRUCT);
    return this.begin();
  }

  i32(id: number, v: number): this {
    this.header(id, T.I32);
    this.out.varint(zigzag(v));
    return this;
  }

  i64(id: number, v: number): this {
    this.header(id, T.I64);
    this.out.varint(zigzag(v));
    return this;
  }

  i8(id: number, v: number): this {
    this.header(id, T.I8);
    this.out.byte(v);
    return this;
  }

  i16(id: number, v: number): this {
    this.header(id, T.I16);
    this.out.varint(zigzag(v));
    return this;
  }

  binary(id: number, b: Uint8Array): this {
    this.header(id, T.BINARY);
    this.out.varint(b.length);
    this.out.bytes(b);
    return this;
  }

  /** A field that is an empty struct (a union's member such as StringType or MILLIS). */
  empty(id: number): this {
    return this.struct(id).end();
  }

  bool(id: number, v: boolean): this {
    this.header(id, v ? T.TRUE : T.FALSE);
    return this;
  }

  string(id: number, s: string): this {
    this.header(id, T.BINARY);
    this.rawString(s);
    return this;
  }

  /** A list field's header; the caller then writes `size` elements of `elemType`. */
  list(id: number, elemType: number, size: number): this {
    this.header(id, T.LIST);
    if (size < 15) this.out.byte((size << 4) | elemType);
    else {
      this.out.byte(0xf0 | elemType);
      this.out.varint(size);
    }
    return this;
  }

  i32List(id: number, values: readonly number[]): this {
    this.list(id, T.I32, values.length);
    for (const v of values) this.out.varint(zigzag(v));
    return this;
  }

  i64List(id: number, values: readonly number[]): this {
    this.list(id, T.I64, values.length);
    for (const v of values) this.out.varint(zigzag(v));
    return this;
  }

  /** Booleans in a list are one byte each: 1 true, 2 false (as the reference implementations write them). */
  boolList(id: number, values: readonly boolean[]): this {
    this.list(id, T.TRUE, values.length);
    for (const v of values) this.out.byte(v ? 1 : 2);
    return this;
  }

  binaryList(id: number, values: readonly Uint8Array[]): this {
    this.list(id, T.BINARY, values.length);
    for (const v of values) { this.out.varint(v.length); this.out.bytes(v); }
    return this;
  }

  stringList(id: number, values: readonly string[]): this {
    this.list(id, T.BINARY, values.length);
    for (const v of values) this.rawString(v);
    return this;
  }

  private rawString(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.out.varint(b.length);
    this.out.bytes(b);
  }
}
