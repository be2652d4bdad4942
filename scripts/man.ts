/** Rewrites the generated section of man/flowseek.1 (the output fields) from the schema. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withFields } from '../src/manpage';

const page = path.resolve(__dirname, '..', '..', 'man', 'flowseek.1');
fs.writeFileSync(page, withFields(fs.readFileSync(page, 'utf8')));
console.log(`updated ${path.relative(process.cwd(), page)}`);
