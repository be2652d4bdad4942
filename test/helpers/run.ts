/** Runs the meter through the public API, or the CLI as a child process. */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FlowStreamer, StreamerOptions } from '../../src/index';
import { FlowValue } from '../../src/flow-batch';
import { parseMeterOptions, RawReadOptions } from '../../src/options';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'flowseek');
export const ORACLE = path.resolve(ROOT, '..', 'shared', 'oracle', 'nfstream');
/** Why a test that runs flowseek itself as another user (nobody) cannot, or undefined: a folder on
 * the way to this checkout that others may not enter (a clone under mktemp -d, or in /root). */
export const CHECKOUT_CLOSED: string | undefined = (() => {
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return `skipped: ${dir} may not be entered by other users, and this test runs flowseek as nobody`;
    if (dir === path.dirname(dir)) return undefined;
  }
})();

/** Why a test that reads the oracle skips (`{ skip: NO_ORACLE }`), or false: the oracle is there, or
 * this is CI (CI=true), where a missing oracle must fail the run, not shrink it. */
export const NO_ORACLE: string | false = fs.existsSync(path.join(ORACLE, 'pcaps')) || process.env.CI === 'true' ? false :
  '../shared/oracle missing: the oracle captures come from NFStream\'s public test suite (its capture files and ' +
  'NFStream 6.5\'s results for each) with Debian nDPI 4.2\'s ndpiReader labels for the same files; they are kept ' +
  `beside the checkout, at ${path.dirname(ORACLE)}, never in the repository (.ci/run fails without them)`;

export type Flow = Record<string, FlowValue>;

export async function flows(files: string[], raw: RawReadOptions = {}): Promise<Flow[]> {
  const opts: StreamerOptions = { ...parseMeterOptions(raw), files };
  const out: Flow[] = [];
  for await (const f of new FlowStreamer(opts)) out.push(f);
  return out;
}

export function cli(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 28 });
}

/** A flow source's rows as sorted JSON, ids aside: flows from several meters arrive in another
 * order and are numbered as they come. */
export async function sortedRows(source: { batches(): AsyncGenerator<{ length: number; row(r: number): Record<string, unknown> }> }): Promise<string[]> {
  const out: string[] = [];
  for await (const b of source.batches()) {
    for (let r = 0; r < b.length; r++) {
      const { id: _id, ...rest } = b.row(r);
      out.push(JSON.stringify(rest));
    }
  }
  return out.sort();
}
