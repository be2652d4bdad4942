/**
 * A batch of model inputs: for each input one typed array, kept between batches and grown only
 * when a batch has more flows than any before, filled in place from the batch's columns (flows
 * that ended) or from the early store (flows at their Nth packet) — bytes copied as they are by
 * the typed arrays' own conversion — then scaled and normalised in place in one pass.
 */
import { BatchColumn, BatchColumns } from '../api';
import { Binding, Elem } from './bind';
import { EarlyStore } from './early';
import { SPLT_LISTS } from './spec';

type Numbers = Float32Array | Float64Array | Uint8Array | Int32Array;
const MAKE: Record<Exclude<Elem, 'int64'>, (n: number) => Numbers> = {
  float32: (n) => new Float32Array(n), float64: (n) => new Float64Array(n), uint8: (n) => new Uint8Array(n), int32: (n) => new Int32Array(n),
};

/** A run-time mismatch: the run lacks a column, or keeps less of it than the model takes. */
export const fatal = (message: string) => Object.assign(new Error(message), { fatal: true });

export class InputBuffers {
  private cap = 0;
  /** int64 inputs are filled as float64, then converted */
  private readonly data: Numbers[];
  private wide: (BigInt64Array | undefined)[];

  constructor(readonly bindings: Binding[]) {
    this.data = bindings.map(() => new Float32Array(0));
    this.wide = bindings.map(() => undefined);
  }

  /** Room for n flows. */
  reserve(n: number): void {
    if (n <= this.cap) return;
    const cap = Math.max(n, this.cap * 2, 64);
    this.bindings.forEach((b, i) => {
      this.data[i] = (b.elem === 'int64' ? MAKE.float64 : MAKE[b.elem])(cap * b.rowSize);
      if (b.elem === 'int64') this.wide[i] = new BigInt64Array(cap * b.rowSize);
    });
    this.cap = cap;
  }

  /** Input i's values for n flows, normalised, as the typed array onnxruntime takes. */
  values(i: number, n: number): Numbers | BigInt64Array {
    const b = this.bindings[i];
    const d = this.data[i].subarray(0, n * b.rowSize);
    if (b.mul && b.add) {
      const m = b.mul, a = b.add, w = b.rowSize;
      for (let r = 0; r < n; r++) for (let j = 0, o = r * w; j < w; j++, o++) d[o] = d[o] * m[j] + a[j];
    }
    const wide = this.wide[i];
    if (!wide) return d;
    const out = wide.subarray(0, d.length);
    for (let j = 0; j < d.length; j++) out[j] = BigInt(Math.trunc(d[j]));
    return out;
  }

  /** Rows `at` (in the batch's order) from the flows ended in this batch. */
  fromColumns(cols: BatchColumns, picks: readonly number[], at: number): void {
    this.bindings.forEach((b, i) => {
      const d = this.data[i], w = b.rowSize, s = b.spec.source;
      const need = (name: string): BatchColumn => {
        const c = cols.column(name);
        if (!c) throw fatal(`feature ${name} is not in this run's columns (its option, e.g. ${OPTION[name] ?? '--stats'}, is off)`);
        return c;
      };
      if (s.kind === 'scalar') {
        const cs = s.columns.map(need) as (Float64Array | BigUint64Array)[];
        picks.forEach((row, k) => { for (let j = 0; j < cs.length; j++) d[(at + k) * w + j] = Number(cs[j][cols.rows[row]]); });
      } else if (s.kind === 'payload') {
        const c = need('payload_bytes') as { width: number; bytes: Uint8Array };
        if (c.width < b.L) throw fatal(`the model takes ${b.L} payload bytes (input "${b.input}"); this run keeps ${c.width}: run with --payload-bytes ${b.L}`);
        picks.forEach((row, k) => {
          const from = cols.rows[row] * c.width;
          d.set(c.bytes.subarray(from, from + b.L), (at + k) * w);
        });
      } else if (s.kind === 'header') {
        const c = need('header_bytes') as { width: number; items: number; bytes: Uint8Array };
        if (c.items < b.P || c.width < b.W) {
          throw fatal(`the model takes the headers of ${b.P} packets, ${b.W} bytes each (input "${b.input}"); this run keeps ${c.items} of ${c.width}: run with --header-bytes ${b.P} --header-width ${b.W}`);
        }
        picks.forEach((row, k) => {
          const from = cols.rows[row] * c.items * c.width, o = (at + k) * w;
          for (let p = 0; p < b.P; p++) d.set(c.bytes.subarray(from + p * c.width, from + p * c.width + b.W), o + p * b.W);
        });
      } else {
        s.channels.forEach((name, ch) => {
          const c = need(name) as { n: number; values: ArrayLike<number> };
          if (c.n < b.S) throw fatal(`the model takes the SPLT of ${b.S} packets (input "${b.input}"); this run keeps ${c.n}: run with --splt ${b.S}`);
          picks.forEach((row, k) => {
            const from = cols.rows[row] * c.n, o = (at + k) * w + ch * b.S;
            for (let j = 0; j < b.S; j++) d[o + j] = c.values[from + j];
          });
        });
      }
    });
  }

  /** Row r from an early-store slot. */
  fromEarly(store: EarlyStore, slot: number, r: number): void {
    this.bindings.forEach((b, i) => {
      const d = this.data[i], o = r * b.rowSize, s = b.spec.source;
      if (s.kind === 'scalar') {
        for (let j = 0; j < s.columns.length; j++) d[o + j] = store.counter(slot, s.columns[j]);
      } else if (s.kind === 'payload') {
        const from = slot * store.L;
        d.set(store.payload.subarray(from, from + b.L), o);
      } else if (s.kind === 'header') {
        const from = slot * store.P * store.W;
        for (let p = 0; p < b.P; p++) d.set(store.header.subarray(from + p * store.W, from + p * store.W + b.W), o + p * b.W);
      } else {
        s.channels.forEach((name, ch) => {
          const from = slot * 3 * store.S + SPLT_LISTS.indexOf(name) * store.S;
          for (let j = 0; j < b.S; j++) d[o + ch * b.S + j] = store.splt[from + j];
        });
      }
    });
  }
}

const OPTION: Record<string, string> = {
  payload_bytes: '--payload-bytes', header_bytes: '--header-bytes',
  splt_direction: '--splt', splt_ps: '--splt', splt_piat_ms: '--splt',
};
