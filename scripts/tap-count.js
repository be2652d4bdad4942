#!/usr/bin/env node
// Reads a tap run's output and prints its closing count as "N passed, N failed, N skipped".
// A second argument counts failures outside the tap run (.ci/run's lint) among the failed.
'use strict';
const fs = require('node:fs');
const text = fs.readFileSync(process.argv[2], 'utf8');
const summaries = text.match(/^# \{ total: .*\}$/gm);
if (!summaries) {
  console.log('0 passed, 1 failed');
  console.error('tap-count: no tap summary found in the test output');
  process.exit(1);
}
const last = summaries[summaries.length - 1];
const n = (key) => Number((last.match(new RegExp(`\\b${key}: (\\d+)`)) || [0, 0])[1]);
const outside = Number(process.argv[3] || 0);
console.log(`${n('pass')} passed, ${n('fail') + outside} failed, ${n('skip') + n('todo')} skipped`);
process.exit(n('pass') > 0 ? 0 : 1);
