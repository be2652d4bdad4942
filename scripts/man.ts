/** Rewrites the generated sections of man/flowseek.1: the options from the option table, the output
 * fields from the schema. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withGenerated } from '../src/manpage';

const page = path.resolve(__dirname, '..', '..', 'man', 'flowseek.1');
fs.writeFileSync(page, withGenerated(fs.readFileSync(page, 'utf8')));
console.log(`updated ${path.relative(process.cwd(), page)}`);
