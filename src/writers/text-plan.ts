/**
 * CSV and JSON Lines made in C where the meter runs (native/text_rows.c): no batch of columns
 * reaches JavaScript and no JavaScript runs per flow. The bytes are csvRows' and jsonlRows' for
 * the same flows (test/97 compares them on every oracle capture). Only the meter's own columns
 * can be made there: a run whose fields include a plugin's or system visibility's gets batches.
 */
import { loadNative, NativeMeter, NativeTextPart, NativeTextPlan, NativeTextSource } from '../native';
import { OutputFormat } from '../options';
import { Field } from '../schema';
import { buildColumnIndex, SPLT_COLUMNS } from '../streamer';
import { jsonlKeys } from './jsonl';

/** The plan for these fields, or undefined where a column is not the meter's or the format is
 * not text. */
export function textPlan(format: OutputFormat, fields: readonly Field[], maxFlows: number): NativeTextPlan | undefined {
  if (format !== 'csv' && format !== 'jsonl') return undefined;
  const names = loadNative().columns();
  const index = buildColumnIndex(fields);
  const keys = jsonlKeys(fields);
  const columns: NativeTextPlan['columns'] = [];
  for (const [i, f] of fields.entries()) {
    const at = (source: NativeTextSource, k: number) => (k >= 0 ? { source, index: k } : undefined);
    let where: { source: NativeTextSource; index: number } | undefined;
    switch (f.source) {
      case 'base': case 'stats': case 'activity': case 'fine': where = at(f.source, index[i]); break;
      case 'string':
        where = f.name === 'community_id' ? at('community', 0)
          : names.strings.addresses.includes(f.name) ? at('address', names.strings.addresses.indexOf(f.name))
          : at('dpi', names.strings.dpi.indexOf(f.name));
        break;
      case 'splt': where = at('splt', SPLT_COLUMNS.indexOf(f.name)); break;
      case 'payload': where = at(f.type === 'bytes' ? 'payload' : 'payload_len', 0); break;
      case 'header': where = at(f.type === 'list<bytes>' ? 'header' : 'header_count', 0); break;
      default: return undefined;
    }
    if (!where) return undefined;
    columns.push({ ...where, key: format === 'jsonl' ? Buffer.from(keys[i]).toString('utf8') : '' });
  }
  return { format, idColumn: names.base.indexOf('id'), maxFlows, columns };
}

/** next() of a meter told textOutput() */
export function nextPart(meter: NativeMeter, size: number): Promise<NativeTextPart | null> {
  return meter.next(size) as unknown as Promise<NativeTextPart | null>;
}

export function nextPartSync(meter: NativeMeter, size: number): NativeTextPart | null {
  return meter.nextSync(size) as unknown as NativeTextPart | null;
}
