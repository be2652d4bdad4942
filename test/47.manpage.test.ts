/** The man page against the schema and the command line: every option and field, and clean roff. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { buildProgram } from '../src/cli';
import { withFields } from '../src/manpage';
import { FIELDS } from '../src/schema';
import { ROOT } from './helpers/run';

const PAGE = path.join(ROOT, 'man', 'flowseek.1');
const page = fs.readFileSync(PAGE, 'utf8');
const unroff = (s: string) => s.replace(/\\-/g, '-');

t.test('the field section is generated from the schema and current', async (t) => {
  t.equal(page, withFields(page), 'npm run man changes nothing');
  const text = unroff(page);
  for (const f of FIELDS) t.ok(text.includes(`.B ${f.name}\n${f.type}`), `${f.name} with its type`);
});

t.test('every option of every command is in the page, and the page names no option the CLI lacks', async (t) => {
  const program = buildProgram(() => undefined);
  const cliFlags = new Set<string>();
  for (const cmd of [program, ...program.commands]) {
    for (const o of cmd.options) {
      if ((o as { hidden?: boolean }).hidden || !o.long || o.long === '--version' || o.long === '--help') continue;
      cliFlags.add(o.long);
    }
  }
  const text = unroff(page);
  for (const flag of cliFlags) t.ok(text.includes(flag), `${flag} documented`);
  const options = text.slice(text.indexOf('.SH OPTIONS'), text.indexOf('.SH OUTPUT FIELDS'));
  const documented = new Set(options.match(/--[a-z][a-z-]*/g));
  t.same([...documented].filter((f) => !cliFlags.has(f)), [], 'no documented option is unknown to the CLI');
});

t.test('the page renders without a warning', async (t) => {
  const r = spawnSync('groff', ['-ww', '-z', '-man', PAGE], { encoding: 'utf8' });
  t.equal(r.error, undefined, 'groff is installed (deps/install.sh --test)');
  t.equal(r.status, 0);
  t.equal(r.stderr, '', 'no warning');
});
