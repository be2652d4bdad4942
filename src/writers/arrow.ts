/**
 * Arrow IPC: the flows as record batches, one per batch the meter hands over, with Parquet's types
 * (unsigned integers, text, lists, fixed-size bytes, and the two UTC timestamps after the fields).
 * Standard output, a FIFO or a .arrows file get the stream format, read as flows come
 * (pyarrow.ipc.open_stream, polars.read_ipc_stream); another file the file format, whose footer
 * indexes the batches (pyarrow.ipc.open_file, polars.read_ipc).
 */
import * as fs from 'node:fs';
import { Field } from '../schema';
import { Column, FlowBatch, isByteColumn } from '../flow-batch';
import { bool, finish, Fb, i16, i32, i64, longs, str, table, tables, u8 } from './arrow-flatbuf';
import { timeTwins } from './parquet/columns';
import { Sink } from './sink';
import { FlowWriter } from './writer';

const MAGIC = Buffer.from('ARROW1\0\0', 'latin1');
const CONTINUATION = 0xffffffff;
const V5 = 4;
const HEADER = { Schema: 1, RecordBatch: 3 };
const TYPE = { Int: 2, FloatingPoint: 3, Utf8: 5, Timestamp: 10, List: 12, FixedSizeBinary: 15 };
const UNIT = { ms: 1, us: 2, ns: 3 } as const;

/** An output column: a field (or a time twin) and where its values are in a batch. */
interface ArrowColumn { field: Field; source: number; unit?: 'ms' | 'us' | 'ns' }

function intType(bits: number, signed: boolean): [number, Fb] {
  return [TYPE.Int, table(i32(bits), bool(signed))];
}

/** The flatbuffer type of a value (list elements included): [union tag, table]. */
function valueType(c: ArrowColumn): [number, Fb] {
  if (c.unit) return [TYPE.Timestamp, table(i16(UNIT[c.unit]), str('UTC'))];
  switch (c.field.type) {
    case 'uint64': case 'int64': case 'list<int64>': return intType(64, true);
    case 'uint32': return intType(32, false);
    case 'uint16': return intType(16, false);
    case 'uint8': return intType(8, false);
    case 'int8': return intType(8, true);
    case 'float64': return [TYPE.FloatingPoint, table(i16(2))];
    case 'string': return [TYPE.Utf8, table()];
    case 'bytes': case 'list<bytes>': return [TYPE.FixedSizeBinary, table(i32(c.field.width ?? 1))];
  }
}

function fieldTable(c: ArrowColumn): Fb {
  const [tag, type] = valueType(c);
  if (c.field.type === 'list<int64>' || c.field.type === 'list<bytes>') {
    // a list of "element", as a Parquet LIST reads back
    const element = table(str('element'), bool(false), u8(tag), type, undefined, tables([]));
    return table(str(c.field.name), bool(false), u8(TYPE.List), table(), undefined, tables([element]));
  }
  return table(str(c.field.name), bool(false), u8(tag), type, undefined, tables([]));
}

function schemaTable(columns: ArrowColumn[]): Fb {
  return table(i16(0), tables(columns.map(fieldTable)));
}

function message(header: number, body: Fb, bodyLength: number): Buffer {
  return finish(table(i16(V5), u8(header), body, i64(bodyLength)));
}

/** A message as framed in a stream: continuation, metadata length, metadata (8-aligned). */
function frame(meta: Buffer): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(CONTINUATION, 0);
  prefix.writeInt32LE(meta.length, 4);
  return Buffer.concat([prefix, meta]);
}

/** The body of one record batch: buffers 8-aligned, their places, and the field nodes. */
class Body {
  readonly parts: Uint8Array[] = [];
  readonly buffers: number[][] = [];
  readonly nodes: number[][] = [];
  length = 0;

  add(b: Uint8Array): void {
    this.buffers.push([this.length, b.byteLength]);
    if (b.byteLength) this.parts.push(b);
    const pad = (8 - (b.byteLength % 8)) % 8;
    if (pad) this.parts.push(new Uint8Array(pad));
    this.length += b.byteLength + pad;
  }

  node(length: number): void {
    this.nodes.push([length, 0]);
    this.add(new Uint8Array(0)); // no validity bitmap: nothing is null
  }
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Numbers as the column's Arrow type. */
function numbers(field: Field, values: ArrayLike<number>, from: number, to: number): Uint8Array {
  switch (field.type) {
    case 'float64': return values instanceof Float64Array ? bytesOf(values.subarray(from, to)) : bytesOf(Float64Array.from(Array.prototype.slice.call(values, from, to) as number[]));
    case 'uint32': return bytesOf(new Uint32Array(sliceOf(values, from, to)));
    case 'uint16': return bytesOf(new Uint16Array(sliceOf(values, from, to)));
    case 'uint8': return bytesOf(new Uint8Array(sliceOf(values, from, to)));
    case 'int8': return bytesOf(new Int8Array(sliceOf(values, from, to)));
    default: {
      // two's-complement halves: exact for every whole number below 2^53 in magnitude
      const out = new Int32Array(2 * (to - from));
      for (let i = from, k = 0; i < to; i++, k += 2) {
        const v = values[i];
        const hi = Math.floor(v / 4294967296);
        out[k] = v - hi * 4294967296;
        out[k + 1] = hi;
      }
      return bytesOf(out);
    }
  }
}

const sliceOf = (v: ArrayLike<number>, from: number, to: number): ArrayLike<number> =>
  v instanceof Float64Array ? v.subarray(from, to) : Array.prototype.slice.call(v, from, to) as number[];

function offsets(rows: number, per: number): Uint8Array {
  const o = new Int32Array(rows + 1);
  for (let r = 0; r <= rows; r++) o[r] = r * per;
  return bytesOf(o);
}

function text(values: string[], body: Body): void {
  const joined = values.join('');
  const data = Buffer.from(joined, 'utf8');
  const o = new Int32Array(values.length + 1);
  const ascii = data.length === joined.length;
  for (let r = 0, at = 0; r < values.length; r++) {
    at += ascii ? values[r].length : Buffer.byteLength(values[r]);
    o[r + 1] = at;
  }
  body.add(bytesOf(o));
  body.add(data);
}

function addColumn(c: ArrowColumn, column: Column, rows: number, body: Body): void {
  body.node(rows);
  if (Array.isArray(column)) return text(column, body);
  if (column instanceof BigUint64Array) return body.add(bytesOf(column));
  if (column instanceof Float64Array) return body.add(numbers(c.unit ? { ...c.field, type: 'int64' } : c.field, column, 0, rows));
  if (isByteColumn(column)) {
    if (column.items === undefined) return body.add(column.bytes);
    body.add(offsets(rows, column.items));
    body.node(rows * column.items);
    return body.add(column.bytes);
  }
  body.add(offsets(rows, column.n));
  body.node(rows * column.n);
  body.add(numbers({ ...c.field, type: 'int64' }, column.values, 0, rows * column.n));
}

/** The schema message, and each batch's record batch message with its body. */
export class ArrowEncoder {
  readonly columns: ArrowColumn[];

  constructor(readonly fields: readonly Field[]) {
    this.columns = [
      ...fields.map((field, source) => ({ field, source })),
      ...timeTwins(fields).map((t) => ({ field: { ...fields[t.source], name: t.name }, source: t.source, unit: t.unit })),
    ];
  }

  schemaMessage(): Buffer {
    return frame(message(HEADER.Schema, schemaTable(this.columns), 0));
  }

  schemaTable(): Fb {
    return schemaTable(this.columns);
  }

  /** [framed metadata, body parts, body length] */
  recordBatch(batch: FlowBatch): { meta: Buffer; parts: Uint8Array[]; bodyLength: number } {
    const body = new Body();
    for (const c of this.columns) addColumn(c, batch.columns[c.source], batch.length, body);
    const header = table(i64(batch.length), longs(body.nodes), longs(body.buffers));
    return { meta: frame(message(HEADER.RecordBatch, header, body.length)), parts: body.parts, bodyLength: body.length };
  }
}

/** Standard output, a FIFO, a device or a .arrows name: the stream format; other files the file format. */
function streamFormat(sink: Sink): boolean {
  const target = sink.target;
  if (target === undefined || target.toLowerCase().endsWith('.arrows')) return true;
  try {
    return !fs.statSync(target).isFile();
  } catch {
    return false; // a new file
  }
}

/** A record batch message as ArrowEncoder makes it: framed metadata, body parts, body length. */
export interface ArrowMessage { meta: Uint8Array; parts: Uint8Array[]; bodyLength: number }

/** The stream or file: schema (with the first message's columns), record batch messages as they
 * come (encoded here or on lanes' threads), the end, and the file format's footer. */
export class ArrowFile {
  private encoder?: ArrowEncoder;
  private readonly stream: boolean;
  private readonly blocks: number[][] = [];
  private offset = 0;

  constructor(private readonly fields: readonly Field[], private readonly sink: Sink) {
    this.stream = streamFormat(sink);
  }

  private async put(b: Uint8Array): Promise<void> {
    await this.sink.write(b);
    this.offset += b.byteLength;
  }

  /** Magic (file format) and schema, once, with the columns of the first batch. */
  async start(f: readonly Field[]): Promise<ArrowEncoder> {
    if (this.encoder) return this.encoder;
    this.encoder = new ArrowEncoder(f);
    if (!this.stream) await this.put(MAGIC);
    await this.put(this.encoder.schemaMessage());
    return this.encoder;
  }

  async message(m: ArrowMessage): Promise<void> {
    await this.start(this.fields);
    this.blocks.push([this.offset, m.meta.byteLength, m.bodyLength]);
    await this.put(m.meta);
    for (const p of m.parts) await this.put(p);
  }

  async close(): Promise<void> {
    const e = await this.start(this.fields);
    const eos = Buffer.alloc(8);
    eos.writeUInt32LE(CONTINUATION, 0);
    await this.put(eos);
    if (!this.stream) {
      const footer = finish(table(i16(V5), e.schemaTable(), longs([]), longs(this.blocks)));
      const tail = Buffer.alloc(4);
      tail.writeInt32LE(footer.length, 0);
      await this.put(footer);
      await this.put(tail);
      await this.put(MAGIC.subarray(0, 6));
    }
    await this.sink.close();
  }
}

export function arrowWriter(fields: readonly Field[], sink: Sink): FlowWriter {
  const file = new ArrowFile(fields, sink);
  return {
    async write(batch: FlowBatch) {
      if (batch.length === 0) return;
      const e = await file.start(batch.fields);
      await file.message(e.recordBatch(batch));
    },
    close: () => file.close(),
  };
}
