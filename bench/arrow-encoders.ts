/**
 * The two Arrow IPC encoders on the same flows: flowseek's own (src/writers/arrow.ts, FlatBuffers
 * framing over the columnar batches) and the apache-arrow package (vectors built from the same
 * columns, then RecordBatchStreamWriter). Flows are read once into memory; each encoder then
 * streams every batch, three times; the median CPU time is reported, and both outputs are read
 * back by apache-arrow to check they hold the same rows.
 * Usage: npm run build && node dist/bench/arrow-encoders.js CAPTURE [flowseek read options...]
 */
import * as arrow from 'apache-arrow';
import { parseMeterOptions } from '../src/options';
import { Column, FlowBatch, isByteColumn } from '../src/flow-batch';
import { FlowStreamer } from '../src/streamer';
import { ArrowEncoder } from '../src/writers/arrow';
import { timeTwins } from '../src/writers/parquet/columns';
import { Field } from '../src/schema';

function arrowType(f: Field): arrow.DataType {
  switch (f.type) {
    case 'uint64': case 'int64': return new arrow.Int64();
    case 'uint32': return new arrow.Uint32();
    case 'uint16': return new arrow.Uint16();
    case 'uint8': return new arrow.Uint8();
    case 'int8': return new arrow.Int8();
    case 'float64': return new arrow.Float64();
    case 'string': return new arrow.Utf8();
    case 'list<int64>': return new arrow.List(new arrow.Field('element', new arrow.Int64(), false));
    case 'bytes': return new arrow.FixedSizeBinary(f.width ?? 1);
    case 'list<bytes>': return new arrow.List(new arrow.Field('element', new arrow.FixedSizeBinary(f.width ?? 1), false));
  }
}

const int64s = (v: ArrayLike<number>) => BigInt64Array.from(v as number[], (x) => BigInt(x));

/** A batch column as an apache-arrow vector of the same type as flowseek writes. */
function vector(f: Field, c: Column, unit?: string): arrow.Vector {
  if (unit) return arrow.makeVector({ type: new arrow.TimestampMillisecond('UTC'), data: int64s(c as Float64Array) } as never);
  const type = arrowType(f);
  if (Array.isArray(c)) return arrow.vectorFromArray(c, new arrow.Utf8());
  if (c instanceof BigUint64Array) return arrow.makeVector(new BigInt64Array(c.buffer, c.byteOffset, c.length));
  if (c instanceof Float64Array) {
    switch (f.type) {
      case 'float64': return arrow.makeVector(c);
      case 'uint32': return arrow.makeVector(new Uint32Array(c));
      case 'uint16': return arrow.makeVector(new Uint16Array(c));
      case 'uint8': return arrow.makeVector(new Uint8Array(c));
      case 'int8': return arrow.makeVector(new Int8Array(c));
      default: return arrow.makeVector(int64s(c));
    }
  }
  if (isByteColumn(c)) {
    const rows = c.bytes.length / (c.width * (c.items ?? 1));
    const fsb = arrow.makeData({ type: new arrow.FixedSizeBinary(c.width), length: rows * (c.items ?? 1), data: c.bytes });
    if (c.items === undefined) return new arrow.Vector([fsb]);
    const offsets = Int32Array.from({ length: rows + 1 }, (_, r) => r * (c.items as number));
    return new arrow.Vector([arrow.makeData({ type: type as arrow.List, length: rows, valueOffsets: offsets, child: fsb })]);
  }
  const rows = c.values.length / c.n;
  const child = arrow.makeData({ type: new arrow.Int64(), length: c.values.length, data: int64s(c.values) });
  const offsets = Int32Array.from({ length: rows + 1 }, (_, r) => r * c.n);
  return new arrow.Vector([arrow.makeData({ type: type as arrow.List, length: rows, valueOffsets: offsets, child })]);
}

function packageEncode(batches: FlowBatch[]): Uint8Array {
  const fields = batches[0].fields;
  const twins = timeTwins(fields);
  const writer = new arrow.RecordBatchStreamWriter();
  for (const b of batches) {
    const cols: Record<string, arrow.Vector> = {};
    fields.forEach((f, i) => { cols[f.name] = vector(f, b.columns[i]); });
    for (const t of twins) cols[t.name] = vector(fields[t.source], b.columns[t.source], t.unit);
    writer.write(new arrow.Table(cols).batches[0]);
  }
  writer.finish();
  return writer.toUint8Array(true);
}

function ownEncode(batches: FlowBatch[]): Uint8Array {
  const e = new ArrowEncoder(batches[0].fields);
  const parts: Uint8Array[] = [e.schemaMessage()];
  for (const b of batches) {
    const { meta, parts: body } = e.recordBatch(b);
    parts.push(meta, ...body);
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}

function cpuMs(f: () => Uint8Array): { ms: number; bytes: Uint8Array } {
  const times: number[] = [];
  let bytes: Uint8Array = new Uint8Array();
  for (let i = 0; i < 3; i++) {
    const start = process.cpuUsage();
    bytes = f();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  return { ms: times.sort((a, b) => a - b)[1], bytes };
}

async function main(): Promise<void> {
  const [file, ...rest] = process.argv.slice(2);
  const raw: Record<string, string | boolean> = {};
  for (let i = 0; i < rest.length; i++) {
    const key = rest[i].replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    if (rest[i + 1] !== undefined && !rest[i + 1].startsWith('--')) raw[key] = rest[++i]; else raw[key] = true;
  }
  const batches: FlowBatch[] = [];
  for await (const b of new FlowStreamer({ ...parseMeterOptions(raw), files: [file] }).batches()) batches.push(b);
  const flows = batches.reduce((n, b) => n + b.length, 0);
  const own = cpuMs(() => ownEncode(batches));
  const pkg = cpuMs(() => packageEncode(batches));
  const a = arrow.tableFromIPC(own.bytes);
  const b = arrow.tableFromIPC(pkg.bytes);
  const same = a.numRows === b.numRows && a.schema.fields.every((f, i) => String(f.type) === String(b.schema.fields[i].type))
    && [0, Math.floor(a.numRows / 2), a.numRows - 1].every((r) => JSON.stringify(a.get(r), (_, v) => typeof v === 'bigint' ? String(v) : v)
      === JSON.stringify(b.get(r), (_, v) => typeof v === 'bigint' ? String(v) : v));
  console.log(`${flows} flows in ${batches.length} batches, ${batches[0].fields.length} fields; read back alike: ${same}`);
  console.log('| encoder | CPU ms | flows/s | MB |');
  console.log('|---|---|---|---|');
  for (const [label, r] of [['flowseek (src/writers/arrow.ts)', own], ['apache-arrow 21 (RecordBatchStreamWriter)', pkg]] as const) {
    console.log(`| ${label} | ${r.ms.toFixed(0)} | ${Math.round(flows / (r.ms / 1000)).toLocaleString('en')} | ${(r.bytes.length / 1e6).toFixed(1)} |`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
