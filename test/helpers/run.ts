/** Runs the meter through the public API, or the CLI as a child process. */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import { FlowStreamer, StreamerOptions } from '../../src/index';
import { FlowValue } from '../../src/streamer';
import { parseMeterOptions, RawReadOptions } from '../../src/options';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'flowseek');
export const ORACLE = path.resolve(ROOT, '..', 'shared', 'oracle', 'nfstream');

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
