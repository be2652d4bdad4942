/**
 * The lint configurations find what they are there for: the project's own eslint.config.mjs and
 * .clang-tidy, run on small files with one known fault each (and on code the configs accept on
 * purpose), so a rule switched off or a config that no longer loads shows here. `npm run lint`
 * (in .ci/run) is what keeps the project itself clean.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { ROOT } from './helpers/run';

const env = { ...process.env, NODE_OPTIONS: '' };

/** A folder laid out as the project (src/, test/, tsconfig.json, the real eslint.config.mjs). */
function eslintProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'lint-'));
  fs.copyFileSync(path.join(ROOT, 'eslint.config.mjs'), path.join(dir, 'eslint.config.mjs'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, types: ['node'], noEmit: true },
    include: ['src/**/*.ts', 'test/**/*.ts'],
  }));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

t.test('ESLint: floating and misused promises, awaits of non-promises, ==, unused values', async (t) => {
  const dir = eslintProject({
    'src/faults.ts': [
      'async function save(): Promise<number> { return 1; }',
      'export async function faults(a: number, b: string, files: string[]): Promise<boolean> {',
      '  const unused = 1;', // no-unused-vars
      '  save();', // no-floating-promises
      '  files.forEach(async () => { await save(); });', // no-misused-promises
      '  await a;', // await-thenable
      '  if (save()) return true;', // no-misused-promises: a promise as a condition
      '  return a == Number(b);', // eqeqeq
      '}',
      'export async function inTry(): Promise<number> {',
      '  try { return save(); } catch { return 0; }', // return-await
      '}',
      '',
    ].join('\n'),
    // what the config accepts on purpose: tap's subtests left to its queue, `_` for a value left out
    'test/accepted.test.ts': [
      "import t from 'tap';",
      "t.test('a subtest', async (t) => { t.pass('ran'); });",
      'export const rest = ({ id: _id, ...others }: { id: number; n: number }) => others;',
      '',
    ].join('\n'),
  });
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '-f', 'json', '.'],
    { cwd: dir, env, encoding: 'utf8' });
  if (!t.equal(r.status, 1, 'ESLint exits 1 on findings')) t.comment(r.stderr);
  const results = JSON.parse(r.stdout) as { filePath: string; messages: { ruleId: string | null; line: number; message: string }[] }[];
  const found = (file: string) => results.find((f) => f.filePath.endsWith(file))?.messages ?? [];
  const faults = found('src/faults.ts');
  const at = (rule: string) => faults.filter((m) => m.ruleId === rule).map((m) => m.line);
  t.same(at('@typescript-eslint/no-unused-vars'), [3], 'an unused value');
  t.same(at('@typescript-eslint/no-floating-promises'), [4], 'a promise nobody awaits');
  t.same(at('@typescript-eslint/no-misused-promises'), [5, 7], 'an async callback where nothing awaits it; a promise as a condition');
  t.same(at('@typescript-eslint/await-thenable'), [6], 'await of a number');
  t.same(at('eqeqeq'), [8], '==');
  t.same(at('@typescript-eslint/return-await'), [11], 'a promise returned from try without await escapes its catch');
  t.same(found('test/accepted.test.ts'), [], 'a tap subtest left unawaited and a `_` rest sibling pass');
});

const tidy = ['clang-tidy', 'clang-tidy-14'].find((c) => spawnSync(c, ['--version']).status === 0);
const tidyTitle = 'clang-tidy: a use after free and an unparenthesised macro; a truncating snprintf passes';
if (!tidy) {
  t.test(tidyTitle, { skip: 'clang-tidy missing: bash deps/install.sh --test installs it (Debian package clang-tidy)' }, async () => undefined);
} else t.test(tidyTitle, async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'tidy-'));
  const file = path.join(dir, 'faults.c');
  fs.writeFileSync(file, [
    '#include <stdio.h>',
    '#include <stdlib.h>',
    '#define TWICE(x) x * 2', // bugprone-macro-parentheses
    'int after_free(void) {',
    '  int *p = malloc(sizeof(*p));',
    '  if (!p) return 0;',
    '  *p = 1;',
    '  free(p);',
    '  return *p + TWICE(1);', // clang-analyzer-unix.Malloc
    '}',
    'void message(char *out, const char *name) {',
    '  snprintf(out, 16, "%s: too long", name);', // cert-err33-c, off on purpose
    '}',
    '',
  ].join('\n'));
  const r = spawnSync(tidy, [`--config-file=${path.join(ROOT, '.clang-tidy')}`, file, '--', '-std=c11', '-D_GNU_SOURCE'],
    { encoding: 'utf8' });
  t.not(r.status, 0, 'findings are errors');
  const checks = [...r.stdout.matchAll(/^[^\n]*faults\.c:(\d+):\d+: error: [^\n]*\[([\w.-]+)/gm)].map((m) => `${m[1]} ${m[2]}`);
  if (!t.same(checks.sort(), ['3 bugprone-macro-parentheses', '9 clang-analyzer-unix.Malloc'], 'those two, nothing else')) t.comment(r.stdout);
});
