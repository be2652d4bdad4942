#!/usr/bin/env node
// npm's install step: use the prebuilt addon shipped in the package (prebuilds/<platform>-<arch>/,
// the node-gyp-build / prebuildify layout) if this machine loads it, else compile one from native/
// (node-gyp: a C compiler and the -dev packages deps/install.sh lists). Compiles at most once.
// FLOWSEEK_BUILD_FROM_SOURCE=1 skips the prebuilt, and so does a git checkout (npm ci there): a
// prebuilt left by an earlier npm pack would be older than the sources.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const prebuilt = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'flowseek.napi.node');

function loads(file) {
  try {
    require(file);
    return null;
  } catch (e) {
    return String(e.message).split('\n')[0];
  }
}

const fromSource = process.env.FLOWSEEK_BUILD_FROM_SOURCE === '1' || fs.existsSync(path.join(root, '.git'));
if (!fromSource && fs.existsSync(prebuilt)) {
  const why = loads(prebuilt);
  if (why === null) {
    console.log(`flowseek: using the prebuilt addon ${path.relative(root, prebuilt)}`);
    process.exit(0);
  }
  console.log(`flowseek: the prebuilt addon does not load here (${why}); compiling one`);
}

const build = spawnSync('bash', [path.join(root, 'scripts', 'build-addon.sh')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('flowseek: compiling the addon failed. It needs a C compiler, make, python3 and the development');
  console.error('packages of libpcap, nDPI (4.2+), OpenSSL 3, zstd and snappy: on Debian, bash deps/install.sh');
  console.error(`in ${root} installs them; then run npm rebuild flowseek.`);
  process.exit(build.status ?? 1);
}
