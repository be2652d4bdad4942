#!/usr/bin/env node
// Reads a tap run's output and prints its closing count as "N passed, N failed, N skipped".
// A second argument counts failures outside the tap run (.ci/run's lint) among the failed.
// The failed assertions are repeated first, each under its test file and subtests: a log kept only
// by its tail (a CI report) still says what failed.
'use strict';
const fs = require('node:fs');
const text = fs.readFileSync(process.argv[2], 'utf8');
const summaries = text.match(/^# \{ total: .*\}$/gm);
if (!summaries) {
  console.log('0 passed, 1 failed');
  console.error('tap-count: no tap summary found in the test output');
  process.exit(1);
}
const MOST = 40;
const failed = failures(text);
if (failed.length) {
  console.log(`failed (${failed.length}${failed.length > MOST ? `, the first ${MOST}` : ''}):`);
  for (const f of failed.slice(0, MOST)) console.log(`  ${f}`);
}
const last = summaries[summaries.length - 1];
const n = (key) => Number((last.match(new RegExp(`\\b${key}: (\\d+)`)) || [0, 0])[1]);
const outside = Number(process.argv[3] || 0);
console.log(`${n('pass')} passed, ${n('fail') + outside} failed, ${n('skip') + n('todo')} skipped`);
process.exit(n('pass') > 0 ? 0 : 1);

/** Each failed assertion (a "not ok" with no subtest of its own) as "file > subtest > assertion":
 * tap prints a subtest's name ("# Subtest: …") before its lines, four spaces deeper. */
function failures(log) {
  const names = []; // by depth: the subtest open at each depth
  const out = [];
  for (const line of log.split('\n')) {
    const m = /^( *)(# Subtest: (.*)|not ok \d+ - (.*?)(?: # time=.*)?)$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    if (m[3] !== undefined) { names.length = depth; names[depth] = m[3]; continue; }
    // a subtest's own "not ok", at its name's depth, closes it: its failures are listed already
    if (names.length > depth && names[depth] === m[4]) { names.length = depth; continue; }
    out.push([...names.slice(0, depth), m[4]].filter((s) => s !== undefined).join(' > '));
  }
  return out;
}
