/**
 * The fuzz harness and the leak check (npm run build:fuzz; CI always builds them): a whole read
 * of every oracle capture under LeakSanitizer, the lanes' frames against the map's pages given back,
 * every kept regression input replayed, and a short fuzz run from a corpus seeded with the oracle's
 * packets. Long runs: npm run fuzz.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { NO_ORACLE, ORACLE, ROOT } from './helpers/run';

const BUILD = path.join(ROOT, 'build-fuzz');
const PCAPS = NO_ORACLE ? [] : fs.readdirSync(path.join(ORACLE, 'pcaps')).map((f) => path.join(ORACLE, 'pcaps', f));
const SECONDS = Number(process.env.FLOWSEEK_FUZZ_SECONDS ?? 60);

if (!fs.existsSync(path.join(BUILD, 'fuzz_meter'))) {
  t.test('fuzzing and leak check', { skip: 'not built: run "npm run build:fuzz" (needs clang; CI always does)' }, async () => undefined);
} else {
  t.test('a whole read of every oracle capture frees every byte (LeakSanitizer)', { skip: NO_ORACLE }, async (t) => {
    const r = spawnSync(path.join(BUILD, 'leakcheck'), PCAPS, { encoding: 'utf8' });
    t.equal(r.status, 0, 'exit 0');
    if (r.status !== 0) t.comment(r.stderr.slice(0, 3000));
    t.notMatch(r.stderr, /LeakSanitizer|AddressSanitizer|runtime error/);
    t.ok(Number(/(\d+) flows/.exec(r.stdout)?.[1]) > 2000, r.stdout.trim());
  });

  t.test('read --workers: no lane takes a frame the reader already wrote over (a slow lane, 96 MB of large frames, 32 MB arenas); lanes reading a file that grows read it alike', async (t) => {
    const r = spawnSync(path.join(BUILD, 'spread_check'), [path.join(tmpdir(), 'spread-check.pcap')], { encoding: 'utf8' });
    t.equal(r.status, 0, `exit 0: ${r.stdout.trim()}`);
    t.notMatch(r.stderr, /AddressSanitizer|runtime error/);
    t.match(r.stdout, /late 0 0/);
    t.match(r.stdout, /shared sizes: 12000 12000 frames, 12001 read alone after it grew/);
  });

  t.test('nDPI modules start on threads at once (lanes opened together): libgcrypt set up once before them, no process aborts', async (t) => {
    // the check fails at once where a module would set libgcrypt up itself; the processes give
    // the race itself its chances (it aborted about one in fifty to a hundred before)
    const RUNS = 60;
    let ran = 0;
    for (; ran < RUNS; ran++) {
      const r = spawnSync(path.join(BUILD, 'dpi_start_check'), ['2'], { encoding: 'utf8' });
      if (r.status !== 0) { t.fail(`process ${ran + 1}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`); break; }
    }
    t.equal(ran, RUNS, `${RUNS} processes, two modules each started at once`);
  });

  t.test('every kept regression input replays cleanly', async (t) => {
    const dir = path.join(ROOT, 'fuzz', 'regressions');
    const inputs = fs.readdirSync(dir).filter((f) => f !== 'README.md').map((f) => path.join(dir, f));
    t.ok(inputs.length > 0);
    const r = spawnSync(path.join(BUILD, 'fuzz_meter'), ['-runs=1', ...inputs], { encoding: 'utf8' });
    t.equal(r.status, 0, 'every input runs to its end');
    if (r.status !== 0) t.comment(r.stderr.slice(-3000));
  });

  t.test(`${SECONDS} s of fuzzing from the oracle's packets: no crash, no sanitizer report`, { skip: NO_ORACLE }, async (t) => {
    const corpus = path.join(tmpdir(), 'corpus');
    fs.mkdirSync(corpus);
    spawnSync(path.join(BUILD, 'fuzz_seeds'), [corpus, ...PCAPS]);
    const crashes = path.join(tmpdir(), 'crashes') + path.sep;
    fs.mkdirSync(crashes);
    const r = spawnSync(path.join(BUILD, 'fuzz_meter'), [`-max_total_time=${SECONDS}`, '-max_len=65536', `-artifact_prefix=${crashes}`,
      '-print_final_stats=1', corpus], { encoding: 'utf8', env: { ...process.env, UBSAN_OPTIONS: 'halt_on_error=1' }, maxBuffer: 1 << 26 });
    const execs = Number(/stat::number_of_executed_units:\s+(\d+)/.exec(r.stderr)?.[1]);
    t.equal(r.status, 0, 'the fuzzer ends at its time limit');
    if (r.status !== 0) t.comment(r.stderr.slice(-3000));
    t.same(fs.readdirSync(crashes), [], 'no crashing input');
    t.ok(execs > 1000, `${execs} executions`);
  });
}
