/**
 * From the field schema to Parquet columns: each field's physical type, LogicalType (with the
 * older ConvertedType beside it), and where its values come from in a batch. Two columns are
 * added after the fields: the flow's first and last packet as real timestamps (see timeTwins).
 */
import { Field, FieldType } from '../../schema';
import { ConvertedType, Logical, PhysicalType, Repetition, SchemaNode, TimeUnit } from './format';

export interface ColumnSpec {
  field: Field;
  /** the batch column holding the values */
  source: number;
  physical: number;
  path: string[];
  nodes: SchemaNode[];
  /** bytes per row, roughly, to size pages */
  rowBytes: number;
  /** a timestamp column (a twin of a *_ms, *_us or *_ns integer column) */
  timestamp?: TimeUnit;
}

type Scalar = Exclude<FieldType, 'list<int64>' | 'list<bytes>' | 'bytes'>;
const int = (bits: 8 | 16 | 32 | 64, signed: boolean): Logical => ({ kind: 'int', bits, signed });

/** uint64 stays a signed INT64: NFStream's frames hold int64, and every value flowseek writes is
 * far below 2^63, so subtracting two times or counts never wraps in a reader. */
const SCALAR: Record<Scalar, { physical: number; converted?: number; logical?: Logical }> = {
  uint64: { physical: PhysicalType.INT64, converted: ConvertedType.INT_64, logical: int(64, true) },
  int64: { physical: PhysicalType.INT64, converted: ConvertedType.INT_64, logical: int(64, true) },
  uint32: { physical: PhysicalType.INT32, converted: ConvertedType.UINT_32, logical: int(32, false) },
  uint16: { physical: PhysicalType.INT32, converted: ConvertedType.UINT_16, logical: int(16, false) },
  uint8: { physical: PhysicalType.INT32, converted: ConvertedType.UINT_8, logical: int(8, false) },
  int8: { physical: PhysicalType.INT32, converted: ConvertedType.INT_8, logical: int(8, true) },
  float64: { physical: PhysicalType.DOUBLE },
  string: { physical: PhysicalType.BYTE_ARRAY, converted: ConvertedType.UTF8, logical: { kind: 'string' } },
};

function listSpec(field: Field, source: number, physical: number, rowBytes: number, typeLength?: number): ColumnSpec {
  const element: SchemaNode = { name: 'element', type: physical, typeLength, repetition: Repetition.REQUIRED };
  if (physical === PhysicalType.INT64) { element.converted = ConvertedType.INT_64; element.logical = int(64, true); }
  return {
    field, source, physical, path: [field.name, 'list', 'element'], rowBytes,
    nodes: [
      { name: field.name, repetition: Repetition.REQUIRED, children: 1, converted: ConvertedType.LIST, logical: { kind: 'list' } },
      { name: 'list', repetition: Repetition.REPEATED, children: 1 },
      element,
    ],
  };
}

function fieldSpec(field: Field, source: number, listLength: number): ColumnSpec {
  if (field.type === 'list<int64>') return listSpec(field, source, PhysicalType.INT64, 8 * Math.max(1, listLength));
  const width = field.width ?? 1;
  if (field.type === 'list<bytes>') {
    return listSpec(field, source, PhysicalType.FIXED_LEN_BYTE_ARRAY, width * Math.max(1, field.items ?? 1), width);
  }
  if (field.type === 'bytes') {
    const physical = PhysicalType.FIXED_LEN_BYTE_ARRAY;
    return { field, source, physical, path: [field.name], rowBytes: width, nodes: [{ name: field.name, type: physical, typeLength: width, repetition: Repetition.REQUIRED }] };
  }
  const s = SCALAR[field.type];
  const node: SchemaNode = { name: field.name, type: s.physical, repetition: Repetition.REQUIRED, converted: s.converted, logical: s.logical };
  return { field, source, physical: s.physical, path: [field.name], rowBytes: field.type === 'string' ? 24 : 8, nodes: [node] };
}

export interface TimeTwin { name: string; source: number; unit: TimeUnit }

/**
 * The flow's first and last packet as timestamps (UTC) that readers show as times without any
 * conversion, beside NFStream's integer *_ms columns, which stay as they are: code written for
 * NFStream keeps working, and a query filters on a time. They take the finest precision the run
 * has (--time-precision us or ns: the *_us or *_ns columns).
 */
export function timeTwins(fields: readonly Field[]): TimeTwin[] {
  const index = (name: string) => fields.findIndex((f) => f.name === name);
  const unit: TimeUnit = index('bidirectional_first_seen_ns') >= 0 ? 'ns' : index('bidirectional_first_seen_us') >= 0 ? 'us' : 'ms';
  return (['first', 'last'] as const).flatMap((end) => {
    const source = index(`bidirectional_${end}_seen_${unit}`);
    const name = `bidirectional_${end}_seen`;
    return source < 0 || index(name) >= 0 ? [] : [{ name, source, unit }];
  });
}

/** One column per field, then the time twins; a list is `required group name (LIST) { repeated
 * group list { required <type> element } }`; bytes are FIXED_LEN_BYTE_ARRAY of the field's width. */
export function columnSpecs(fields: readonly Field[], listLength: number): ColumnSpec[] {
  const specs = fields.map((field, i) => fieldSpec(field, i, listLength));
  for (const twin of timeTwins(fields)) {
    const converted = twin.unit === 'ms' ? ConvertedType.TIMESTAMP_MILLIS : twin.unit === 'us' ? ConvertedType.TIMESTAMP_MICROS : undefined;
    const field: Field = { ...fields[twin.source], name: twin.name, doc: `${fields[twin.source].name} as a UTC timestamp` };
    specs.push({
      field, source: twin.source, physical: PhysicalType.INT64, path: [twin.name], rowBytes: 8, timestamp: twin.unit,
      nodes: [{ name: twin.name, type: PhysicalType.INT64, repetition: Repetition.REQUIRED, converted, logical: { kind: 'timestamp', unit: twin.unit } }],
    });
  }
  return specs;
}
