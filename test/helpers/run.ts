/** Runs the meter through the public API, or the CLI as a child process. */
import { execFileSync, spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FlowStreamer, StreamerOptions } from '../../src/index';
import { FlowValue } from '../../src/flow-batch';
import { parseMeterOptions, RawReadOptions } from '../../src/options';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'flowseek');
export const ORACLE = path.resolve(ROOT, '..', 'shared', 'oracle', 'nfstream');
/** A folder on the way to this checkout that others may not enter (a clone under mktemp -d, or in
 * /root), or undefined. */
function closedOnTheWay(dir: string): string | undefined {
  for (;; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return dir;
    if (dir === path.dirname(dir)) return undefined;
  }
}

let forOthers: { bin?: string; why?: string } | undefined;

/**
 * flowseek's command for a test that runs it as nobody: this checkout's where others may enter it;
 * else the same install made again of hard links in a temporary folder they may enter (removed at
 * exit); else why not (`{ skip: why }`).
 */
export function binForOthers(): { bin?: string; why?: string } {
  if (forOthers) return forOthers;
  const closed = closedOnTheWay(ROOT);
  if (!closed) return (forOthers = { bin: BIN });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-open-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    fs.chmodSync(dir, 0o755);
    if (closedOnTheWay(dir)) throw new Error(`${os.tmpdir()} is closed too`);
    for (const part of ['bin', 'dist', 'build', 'node_modules', 'package.json']) {
      if (fs.existsSync(path.join(ROOT, part))) execFileSync('cp', ['-al', path.join(ROOT, part), dir], { stdio: 'pipe' });
    }
    return (forOthers = { bin: path.join(dir, 'bin', 'flowseek') });
  } catch (e) {
    return (forOthers = { why: `skipped: ${closed} may not be entered by other users, and no copy of the install could be made where they may (${(e as Error).message.split('\n')[0]})` });
  }
}

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

/** A run that hangs is killed before tap's own timeout (300 s): tap ends the test, not its child,
 * which then ran on at full CPU through the rest of the suite. For every spawnSync of the CLI. */
export const RUN_LIMIT = { timeout: 240_000, killSignal: 'SIGKILL' } as const;

export function cli(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { ...RUN_LIMIT, encoding: 'utf8', input, maxBuffer: 1 << 28 });
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
