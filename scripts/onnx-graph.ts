/**
 * A small ONNX writer (protobuf by hand, opset 13): enough of ModelProto to build the models the
 * model plugin's tests run — convolutions, matrix products, softmax — with named inputs of any
 * element type, initializers, and metadata (class names, normalisation). Field numbers are
 * onnx.proto's; nothing here reads ONNX.
 *
 *   const g = new OnnxGraph('cnn');
 *   g.input('bytes', ELEM.FLOAT, ['N', 1, 784]);
 *   g.init('W', [8, 1, 5], weights);
 *   g.node('Conv', ['bytes', 'W'], ['c'], { strides: ints([2]) });
 */

export class Proto {
  private parts: Buffer[] = [];
  private tag(field: number, wire: number): void { this.varint(field * 8 + wire); }
  private varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
    this.parts.push(Buffer.from(out));
  }
  int(field: number, v: number | bigint): this { this.tag(field, 0); this.varint(v); return this; }
  float(field: number, v: number): this { this.tag(field, 5); const b = Buffer.alloc(4); b.writeFloatLE(v); this.parts.push(b); return this; }
  bytes(field: number, b: Buffer): this { this.tag(field, 2); this.varint(b.length); this.parts.push(b); return this; }
  str(field: number, s: string): this { return this.bytes(field, Buffer.from(s, 'utf8')); }
  msg(field: number, m: Proto): this { return this.bytes(field, m.done()); }
  done(): Buffer { return Buffer.concat(this.parts); }
}

/** TensorProto.DataType */
export const ELEM = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

export type Attr = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string };
export const int = (i: number): Attr => ({ i });
export const ints = (v: number[]): Attr => ({ ints: v });
export const float = (f: number): Attr => ({ f });

function attribute(name: string, a: Attr): Proto {
  const p = new Proto().str(1, name);
  if ('i' in a) return p.int(3, a.i).int(20, 2);
  if ('f' in a) return p.float(2, a.f).int(20, 1);
  if ('s' in a) return p.str(4, a.s).int(20, 3);
  if ('floats' in a) { for (const f of a.floats) p.float(7, f); return p.int(20, 6); }
  for (const i of a.ints) p.int(8, i);
  return p.int(20, 7);
}

function valueInfo(name: string, elem: number, dims: (number | string)[]): Proto {
  const shape = new Proto();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Proto().int(1, d) : new Proto().str(2, d));
  return new Proto().str(1, name).msg(2, new Proto().msg(1, new Proto().int(1, elem).msg(2, shape)));
}

export class OnnxGraph {
  private readonly graph = new Proto();
  private readonly io: Proto[] = [];
  private readonly meta: [string, string][] = [];
  private nodes = 0;

  constructor(private readonly name: string) {}

  input(name: string, elem: number, dims: (number | string)[]): this {
    this.io.push(new Proto().msg(11, valueInfo(name, elem, dims)));
    return this;
  }

  output(name: string, elem: number, dims: (number | string)[]): this {
    this.io.push(new Proto().msg(12, valueInfo(name, elem, dims)));
    return this;
  }

  /** A constant: float32 values, or int64 with elem INT64. */
  init(name: string, dims: number[], values: ArrayLike<number>, elem: number = ELEM.FLOAT): this {
    const count = dims.reduce((a, b) => a * b, 1);
    if (values.length !== count) throw new Error(`initializer ${name}: ${values.length} values for dims [${dims}]`);
    const t = new Proto();
    for (const d of dims) t.int(1, d);
    const raw = Buffer.alloc((elem === ELEM.INT64 ? 8 : 4) * count);
    for (let i = 0; i < count; i++) {
      if (elem === ELEM.INT64) raw.writeBigInt64LE(BigInt(values[i]), 8 * i);
      else raw.writeFloatLE(values[i], 4 * i);
    }
    this.graph.msg(5, t.int(2, elem).str(8, name).bytes(9, raw));
    return this;
  }

  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): this {
    const n = new Proto();
    for (const i of inputs) n.str(1, i);
    for (const o of outputs) n.str(2, o);
    n.str(3, `${op.toLowerCase()}_${this.nodes++}`).str(4, op);
    for (const [k, a] of Object.entries(attrs)) n.msg(5, attribute(k, a));
    this.graph.msg(1, n);
    return this;
  }

  /** metadata_props: what flowseek reads for class names and normalisation */
  metadata(key: string, value: string): this {
    this.meta.push([key, value]);
    return this;
  }

  toBytes(opset = 13): Buffer {
    const graph = Buffer.concat([this.graph.done(), new Proto().str(2, this.name).done(), ...this.io.map((p) => p.done())]);
    const model = new Proto().int(1, 7).str(2, 'flowseek').bytes(7, graph).msg(8, new Proto().str(1, '').int(2, opset));
    for (const [k, v] of this.meta) model.msg(14, new Proto().str(1, k).str(2, v));
    return model.done();
  }
}
