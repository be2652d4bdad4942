/**
 * The reader and batch harnesses (npm run build:fuzz) run once over real inputs: every oracle
 * capture read with a filter and statistics, with no sanitizer report, and its frames the same
 * through the record reader as through libpcap (fuzz_source); the meter's kept regression inputs and the oracle's packets laid out in
 * columns, exactly sized (fuzz_batch). Long runs: bash scripts/fuzz.sh --target source|batch.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { NO_ORACLE, ORACLE, ROOT } from './helpers/run';

const BUILD = path.join(ROOT, 'build-fuzz');
const env = { ...process.env, UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' };

if (!fs.existsSync(path.join(BUILD, 'fuzz_source')) || !fs.existsSync(path.join(BUILD, 'fuzz_batch'))) {
  t.test('reader and batch harnesses', { skip: 'not built: run "npm run build:fuzz" (needs clang; CI always does)' }, async () => undefined);
} else {
  t.test('every oracle capture through the readers, filtered: no sanitizer report, the same frames from both', { skip: NO_ORACLE }, async (t) => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'source-'));
    const captures = [...fs.readdirSync(path.join(ORACLE, 'pcaps')).map((f) => path.join(ORACLE, 'pcaps', f)),
      ...fs.readdirSync(path.join(ORACLE, 'results')).filter((f) => f.endsWith('.pcapng')).map((f) => path.join(ORACLE, 'results', f))];
    let classic = 0;
    for (const file of captures) {
      const bytes = fs.readFileSync(file);
      if (bytes.length >= 4 && [0xa1b2c3d4, 0xd4c3b2a1].includes(bytes.readUInt32LE(0))) classic++;
      // options byte 0x0a: a BPF filter, statistics on
      fs.writeFileSync(path.join(dir, path.basename(file)), Buffer.concat([Buffer.from([0x0a]), bytes]));
    }
    t.ok(classic > 100, `${classic} classic pcap files read`);
    // inputs on which a memory-mapped reader, since removed, and libpcap once differed (options byte
    // first): each is now read by the record reader and libpcap, and compared
    const kept = path.join(ROOT, 'fuzz', 'regressions-source');
    for (const f of fs.readdirSync(kept).filter((f) => f !== 'README.md')) fs.copyFileSync(path.join(kept, f), path.join(dir, `regression-${f}`));
    const inputs = fs.readdirSync(dir).map((f) => path.join(dir, f));
    const r = spawnSync(path.join(BUILD, 'fuzz_source'), ['-runs=1', ...inputs], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
    t.equal(r.status, 0, 'every capture reads to its end');
    if (r.status !== 0) t.comment(r.stderr.slice(-3000));
    t.notMatch(r.stderr, /AddressSanitizer|runtime error|differs|the record reader read/);
    t.equal(r.stderr.match(/^Executed /gm)?.length, inputs.length, `the ${inputs.length} inputs ran`);
  });

  t.test('the kept meter regressions and the oracle\'s packets, laid out in columns', { skip: NO_ORACLE }, async (t) => {
    const corpus = fs.mkdtempSync(path.join(tmpdir(), 'batch-'));
    spawnSync(path.join(BUILD, 'fuzz_seeds'), [corpus, ...fs.readdirSync(path.join(ORACLE, 'pcaps')).slice(0, 40).map((f) => path.join(ORACLE, 'pcaps', f))]);
    const regressions = path.join(ROOT, 'fuzz', 'regressions');
    for (const f of fs.readdirSync(regressions).filter((f) => f !== 'README.md')) fs.copyFileSync(path.join(regressions, f), path.join(corpus, `regression-${f}`));
    t.ok(fs.readdirSync(corpus).length > 40, `${fs.readdirSync(corpus).length} inputs`);
    const inputs = fs.readdirSync(corpus).map((f) => path.join(corpus, f));
    const r = spawnSync(path.join(BUILD, 'fuzz_batch'), ['-runs=1', ...inputs], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
    t.equal(r.status, 0, 'every input runs to its end');
    if (r.status !== 0) t.comment(r.stderr.slice(-3000));
    t.notMatch(r.stderr, /AddressSanitizer|runtime error/);
    t.equal(r.stderr.match(/^Executed /gm)?.length, inputs.length, `the ${inputs.length} inputs ran`);
  });
}
