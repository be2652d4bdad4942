/** The benchmark capture: the oracle's captures repeated with rewritten addresses and shifted
 * times (bench/make-capture.c), built once into bench/cache. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CACHE = path.join(ROOT, 'bench', 'cache');
const PCAPS = path.resolve(ROOT, '..', 'shared', 'oracle', 'nfstream', 'pcaps');

/** bench/NAME.c compiled into the cache (again when the source is newer). */
export function tool(name: string): string {
  const out = path.join(CACHE, 'bin', name);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const src = path.join(ROOT, 'bench', `${name}.c`);
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    execFileSync('cc', ['-O2', '-Wall', '-o', out, src, '-lpcap']);
  }
  return out;
}

/** The capture of this many packets. */
export function capture(packets: number): string {
  const file = path.join(CACHE, `bench-${packets}.pcap`);
  if (!fs.existsSync(file)) {
    const inputs = fs.readdirSync(PCAPS).sort().map((f) => path.join(PCAPS, f));
    execFileSync(tool('make-capture'), [file, String(packets), ...inputs], { stdio: 'inherit' });
  }
  return file;
}
