/**
 * Output writers side by side: the same capture (an oracle pcap copied with rewritten addresses
 * until it makes ~1 M flows, cached in bench/cache) written as CSV, JSONL and Parquet with each
 * codec, and as Arrow IPC. Prints wall time, flows/s, peak RSS and file size per run.
 * Usage: npm run build && node dist/bench/writers.js [copies]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { replicate } from '../test/helpers/replicate';

const ROOT = path.resolve(__dirname, '..', '..');
const SOURCE = path.resolve(ROOT, '..', 'shared', 'oracle', 'nfstream', 'pcaps', 'dnscrypt-v1-and-resolver-pings.pcap');

async function main(): Promise<void> {
  const copies = Number(process.argv[2] ?? 4000);
  const cache = path.join(ROOT, 'bench', 'cache');
  fs.mkdirSync(cache, { recursive: true });
  const input = path.join(cache, `dnscrypt-x${copies}.pcap`);
  if (!fs.existsSync(input)) await replicate(SOURCE, copies, fs.createWriteStream(input));
  const runs: [string, string[]][] = [
    ['CSV', ['--csv']],
    ['JSONL', ['--jsonl']],
    ['Parquet zstd', ['--parquet', '--compression', 'zstd']],
    ['Parquet snappy', ['--parquet', '--compression', 'snappy']],
    ['Parquet gzip', ['--parquet', '--compression', 'gzip']],
    ['Parquet none', ['--parquet', '--compression', 'none']],
    ['Arrow IPC', ['--format', 'arrow']],
  ];
  console.log(`input: ${path.basename(input)}, ${(fs.statSync(input).size / 1e6).toFixed(0)} MB; every run: --stats --splt 10 --dissections 0`);
  console.log('| output | flows | wall s | flows/s | peak RSS MB | file MB |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, args] of runs) {
    const out = path.join(cache, `out.${label.split(' ')[0].toLowerCase()}`);
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'flowseek'), 'read', input, '-o', out, '--stats', '--splt', '10',
      '--dissections', '0', ...args], { encoding: 'utf8' });
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    const flows = Number(/(\d+) flows from/.exec(r.stderr)?.[1]);
    const peak = Number(/peak memory (\d+) MB/.exec(r.stderr)?.[1]);
    const size = fs.statSync(out).size / 1e6;
    console.log(`| ${label} | ${flows} | ${secs.toFixed(2)} | ${Math.round(flows / secs).toLocaleString('en')} | ${peak} | ${size.toFixed(1)} |`);
    fs.rmSync(out);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
