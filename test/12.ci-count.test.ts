/**
 * scripts/tap-count.js, which ends .ci/run: the count line last, and before it each failed
 * assertion under its file and subtests (a CI report keeps only the log's tail).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { ROOT } from './helpers/run';

const count = (log: string, outside = '0') => {
  const file = path.join(fs.mkdtempSync(path.join(tmpdir(), 'tap-count-')), 'tap.log');
  fs.writeFileSync(file, log);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'tap-count.js'), file, outside], { encoding: 'utf8', timeout: 30_000 });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return r;
};

const FAILING = `# Subtest: dist/test/59.faults-run.test.js
    # Subtest: live faults
        # Subtest: SIGTERM just after the start
            ok 1 - after 100 ms: ended
            not ok 2 - after 200 ms: ended (still running after 8 s)
              ---
              at:
              ...
            not ok 3 - no temporary file
            1..3
        not ok 1 - SIGTERM just after the start # time=13055.944ms
        1..1
    not ok 1 - live faults # time=1.2ms
    # Subtest: plain
        ok 1 - fine
    ok 2 - plain
    not ok 3 - an assertion of the file itself
    1..3
not ok 1 - dist/test/59.faults-run.test.js # time=70674.126ms
# Subtest: dist/test/60.features.test.js
    ok 1 - x
ok 2 - dist/test/60.features.test.js
# { total: 6, pass: 3, fail: 3 }
`;

t.test('failed assertions are repeated under their file and subtests, then the count, last', async (t) => {
  const r = count(FAILING);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, [
    'failed (3):',
    '  dist/test/59.faults-run.test.js > live faults > SIGTERM just after the start > after 200 ms: ended (still running after 8 s)',
    '  dist/test/59.faults-run.test.js > live faults > SIGTERM just after the start > no temporary file',
    '  dist/test/59.faults-run.test.js > an assertion of the file itself',
    '3 passed, 3 failed, 0 skipped', ''].join('\n'));
  t.equal(count(FAILING, '1').stdout.split('\n').at(-2), '3 passed, 4 failed, 0 skipped', 'a failed lint counts as one more');
});

t.test('a run with no failure: the count alone; no summary: a failure', async (t) => {
  const r = count('# Subtest: a\n    ok 1 - x\nok 1 - a\n# { total: 1, pass: 1 }\n');
  t.equal(r.stdout, '1 passed, 0 failed, 0 skipped\n');
  const none = count('npm ERR! missing script\n');
  t.equal(none.status, 1);
  t.equal(none.stdout, '0 passed, 1 failed\n');
});
