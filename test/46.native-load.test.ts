/** Loading the addon: one whose shared library is gone says which, and what flowseek needs at run
 * time (the prebuilt addon of the npm package links libpcap, OpenSSL, zstd, snappy and libgcrypt). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from './helpers/packets';
import { BIN, ROOT, RUN_LIMIT } from './helpers/run';

const hasCc = spawnSync('sh', ['-c', 'command -v cc']).status === 0;

t.test('an addon whose shared library is missing: exit 1, one line naming it and the runtime packages', { skip: !hasCc && 'cc missing: bash deps/install.sh installs it' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'addon-'));
  fs.writeFileSync(path.join(dir, 'gone.c'), 'int fs_gone(void) { return 1; }\n');
  fs.writeFileSync(path.join(dir, 'addon.c'), 'int fs_gone(void);\nint fs_uses_gone(void) { return fs_gone(); }\n');
  const cc = (args: string[]) => spawnSync('cc', args, { cwd: dir, encoding: 'utf8' });
  t.equal(cc(['-shared', '-fPIC', '-o', 'libfsgone.so', 'gone.c']).status, 0, 'the library builds');
  t.equal(cc(['-shared', '-fPIC', '-o', 'addon.node', 'addon.c', '-L.', '-lfsgone']).status, 0, 'an addon needing it builds');
  fs.rmSync(path.join(dir, 'libfsgone.so'));

  const r = spawnSync(process.execPath, [BIN, 'read', path.join(ROOT, 'samples', 'sample.pcap'), '--csv'],
    { ...RUN_LIMIT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', FLOWSEEK_ADDON: path.join(dir, 'addon.node') } });
  t.equal(r.status, 1, 'exit 1');
  t.equal(r.stdout, '', 'no flows');
  t.match(r.stderr, /does not load: .*libfsgone\.so: cannot open shared object file/, 'names the missing library');
  t.match(r.stderr, /apt install libpcap0\.8 libssl3 libzstd1 libsnappy1v5 libgcrypt20/, 'says what flowseek needs at run time');
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
