/**
 * Column anonymisation (NFStream's columns_to_anonymize): each value becomes HMAC-SHA256 under a
 * key, in hex. Equal values stay equal and distinct ones distinct (up to SHA-256 collisions),
 * across files of one run, and across runs given the same --anonymize-key. An empty value (no SNI,
 * no user agent) stays empty: it hides nothing.
 */
import * as crypto from 'node:crypto';
import { Column, FlowBatch } from './flow-batch';
import { Field } from './schema';

const CACHE_LIMIT = 1 << 16;

export class Anonymizer {
  private readonly key: Buffer;
  private readonly cache = new Map<string, string>();

  constructor(readonly columns: readonly string[], key?: string) {
    this.key = key !== undefined ? Buffer.from(key, 'utf8') : crypto.randomBytes(32);
  }

  hash(value: string): string {
    if (value === '') return '';
    let h = this.cache.get(value);
    if (h === undefined) {
      h = crypto.createHmac('sha256', this.key).update(value, 'utf8').digest('hex');
      // addresses repeat across flows; a bounded cache keeps the common ones
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(value, h);
    }
    return h;
  }

  apply(batch: FlowBatch): FlowBatch {
    const replace = new Map<number, Column>();
    for (const name of this.columns) {
      const i = batch.fields.findIndex((f: Field) => f.name === name);
      if (i < 0) continue;
      replace.set(i, (batch.columns[i] as string[]).map((v) => this.hash(v)));
    }
    return replace.size ? batch.withColumns(replace) : batch;
  }
}
