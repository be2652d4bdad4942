/**
 * --features: which flowseek columns make each model input. Inputs are separated by ";", each
 * optionally named after the model's input ("bytes=payload_bytes;stats=bidirectional_packets,
 * bidirectional_bytes"); unnamed ones go to the model's inputs in order. An input is either
 * scalar columns ([N, k]) or one sequence source: payload_bytes ([N, L]), header_bytes
 * ([N, P, W]), splt (its three lists as channels, [N, 3, S]) or some of splt_direction, splt_ps,
 * splt_piat_ms (channels in the order given).
 */
import { FIELDS } from '../../schema';

export const SPLT_LISTS = ['splt_direction', 'splt_ps', 'splt_piat_ms'] as const;
export type SpltList = (typeof SPLT_LISTS)[number];

export type Source =
  | { kind: 'scalar'; columns: string[] }
  | { kind: 'payload' }
  | { kind: 'header' }
  | { kind: 'splt'; channels: SpltList[] };

export interface InputSpec { name?: string; source: Source; text: string }

/** What a hook sees at a packet: the only scalar features predictAt can use. */
export const AT_PACKET = ['bidirectional', 'src2dst', 'dst2src'].flatMap((s) =>
  ['first_seen_ms', 'last_seen_ms', 'duration_ms', 'packets', 'bytes'].map((k) => `${s}_${k}`));

const NUMERIC = new Set(FIELDS.filter((f) => ['float64', 'uint64', 'int64', 'uint32', 'uint16', 'uint8', 'int8'].includes(f.type)).map((f) => f.name));
const KNOWN = new Set(FIELDS.map((f) => f.name));

export function describe(s: Source): string {
  switch (s.kind) {
    case 'scalar': return s.columns.join(', ');
    case 'payload': return 'payload_bytes';
    case 'header': return 'header_bytes';
    case 'splt': return s.channels.join(', ');
  }
}

/** Throws (a message for the user) on a column flowseek does not have or a mix it cannot make. */
export function parseFeatures(text: string): InputSpec[] {
  const parts = text.split(';').map((s) => s.trim()).filter(Boolean);
  if (!parts.length) throw new Error('needs the model\'s inputs, in order: --features column,column,...');
  return parts.map((part) => {
    const m = /^([A-Za-z_][\w.:/-]*)\s*=(.*)$/s.exec(part);
    const name = m ? m[1] : undefined;
    const cols = (m ? m[2] : part).split(',').map((s) => s.trim()).filter(Boolean);
    const expanded = cols.flatMap((c) => (c === 'splt' ? [...SPLT_LISTS] : [c]));
    const unknown = expanded.filter((c) => !KNOWN.has(c));
    if (unknown.length) throw new Error(`not flowseek columns: ${unknown.join(', ')} (see: flowseek fields)`);
    const where = name ? `input ${name}` : `"${part}"`;
    const seq = expanded.filter((c) => c === 'payload_bytes' || c === 'header_bytes' || (SPLT_LISTS as readonly string[]).includes(c));
    if (seq.length) {
      const others = expanded.filter((c) => !seq.includes(c));
      if (others.length) throw new Error(`${where}: ${seq[0]} makes an input of its own; give ${others.join(', ')} as another input (separated by ";")`);
      if (seq.includes('payload_bytes') || seq.includes('header_bytes')) {
        if (seq.length > 1) throw new Error(`${where}: ${seq.join(' and ')} cannot share an input; separate them with ";"`);
        return { name, text: part, source: seq[0] === 'payload_bytes' ? { kind: 'payload' } : { kind: 'header' } };
      }
      return { name, text: part, source: { kind: 'splt', channels: seq as SpltList[] } };
    }
    const notNumbers = expanded.filter((c) => !NUMERIC.has(c));
    if (notNumbers.length) throw new Error(`${where}: ${notNumbers.join(', ')} ${notNumbers.length === 1 ? 'is' : 'are'} not numeric: a model input is numbers`);
    return { name, text: part, source: { kind: 'scalar', columns: expanded } };
  });
}
