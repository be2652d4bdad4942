/** The README's examples run as shown: their output is what the README prints. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { BIN, ROOT, RUN_LIMIT } from './helpers/run';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

t.test('the README starts with the two commands, sample run first', async (t) => {
  const blocks = [...readme.matchAll(/```\n(.*?)\n```/gs)].map((m) => m[1]);
  t.match(blocks[0], /^bash deps\/install\.sh && npm ci && npm run build && bin\/flowseek read samples\/sample\.pcap --csv$/);
  t.match(blocks[1], /^bash deps\/install\.sh --test && npm ci && npm run build:asan && npm run build:fuzz && npm run build && npm test$/);
});

for (const example of ['labels', 'splt']) {
  t.test(`samples/${example}.ts prints what the README shows`, async (t) => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'samples', `${example}.js`)], { cwd: ROOT, encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.ok(r.stdout.length > 0 && readme.includes(`\`\`\`\n${r.stdout}\`\`\``), 'output as printed in the README');
    const source = fs.readFileSync(path.join(ROOT, 'samples', `${example}.ts`), 'utf8');
    if (example === 'labels') t.ok(readme.includes(source.slice(source.indexOf('import')).trim()), 'source as printed');
  });
}

t.test('the dataset example writes the partition the README shows', async (t) => {
  const dir = tmpdir();
  const r = spawnSync(process.execPath, [BIN, 'read', path.join(ROOT, 'samples', 'sample.pcap'), '-o', path.join(dir, 'flows'), '--partition', 'hour', '-q'],
    { ...RUN_LIMIT, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const shown = /\nflows\/(dt=[^\n]+\.parquet)\n/.exec(readme)?.[1] as string;
  t.ok(shown && fs.existsSync(path.join(dir, 'flows', shown)), `flows/${shown} written`);
});
