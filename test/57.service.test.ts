/**
 * The files for running unattended (contrib/): the systemd unit passes systemd-analyze verify (and
 * its exposure stays low), its ExecStart captures for real under the unit's identity — not root,
 * the two ambient capabilities, no_new_privs — on a veth the test makes, and stops on SIGTERM with
 * exit 0 and the flows written; the cron line's command reads rotated hourly captures into a
 * dataset, once each, and exits at once, touching nothing, while another run holds its lock.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { query } from './helpers/duckdb';
import { deleteNamespaces, vethPair } from './helpers/netns';
import { tmpdir } from './helpers/packets';
import { BIN, binForOthers, NO_ORACLE, ORACLE, ROOT } from './helpers/run';

const UNIT = path.join(ROOT, 'contrib', 'systemd', 'flowseek-capture@.service');
const CRON = path.join(ROOT, 'contrib', 'cron', 'flowseek-hourly.cron');
const HOURLY = path.join(ROOT, 'contrib', 'cron', 'flowseek-hourly.sh');
const INSTALLED = '/usr/local/bin/flowseek';
const STATE_DIR = '/var/lib/flowseek';
const env = { ...process.env, NODE_OPTIONS: '' };
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** The unit with ExecStart pointing at this checkout, saved as an instance for interface dev. */
function unitCopy(dev: string): string {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'unit-'));
  const file = path.join(dir, `flowseek-capture@${dev}.service`);
  fs.writeFileSync(file, fs.readFileSync(UNIT, 'utf8').split(INSTALLED).join(BIN));
  return file;
}

/** key=value lines of one section of a unit file (the last value of a key repeated wins). */
function section(text: string, name: string): Map<string, string> {
  const out = new Map<string, string>();
  let inside = false;
  for (const line of text.split('\n')) {
    if (/^\[.*\]$/.test(line)) inside = line === `[${name}]`;
    else if (inside && /^\w+=/.test(line)) out.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1));
  }
  return out;
}

t.test('the unit file', async (t) => {
  const service = section(fs.readFileSync(UNIT, 'utf8'), 'Service');
  t.match(service.get('ExecStart'), new RegExp(`^${INSTALLED} capture -i %i --partition hour -o ${STATE_DIR}/%i `));
  t.equal(service.get('KillSignal'), 'SIGTERM', 'SIGTERM: flowseek flushes and exits 0');
  t.equal(service.get('KillMode'), 'mixed', 'only the main process is signalled; it stops its workers');
  t.ok(Number(service.get('TimeoutStopSec')) >= 60, 'time to flush before SIGKILL');
  t.equal(service.get('Restart'), 'on-failure');
  t.equal(service.get('AmbientCapabilities'), 'CAP_NET_RAW CAP_NET_ADMIN');
  t.equal(service.get('ProtectSystem'), 'strict');
  t.equal(service.get('ReadWritePaths'), STATE_DIR);
  t.equal(service.get('NoNewPrivileges'), 'yes');
});

if (!has('systemd-analyze')) {
  t.test('systemd-analyze', { skip: 'systemd-analyze missing: bash deps/install.sh --test installs it (Debian package systemd)' }, async () => undefined);
} else {
  t.test('systemd-analyze verify: no error, no warning', async (t) => {
    // --man=no: the Documentation= man page is only there once flowseek is installed
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', unitCopy('eth0')], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stderr.trim(), '', 'no unknown key, no bad value');
    const broken = unitCopy('eth1');
    fs.writeFileSync(broken, fs.readFileSync(broken, 'utf8').replace('KillMode=mixed', 'KillMode=mixd').split(BIN).join('/nonexistent/flowseek'));
    const bad = spawnSync('systemd-analyze', ['verify', '--man=no', broken], { encoding: 'utf8' });
    t.not(bad.status, 0, 'a unit whose ExecStart is missing fails: the check can fail');
    t.match(bad.stderr, /kill mode/i, 'a bad value is reported');
  });

  t.test('systemd-analyze security: exposure below 5 (of 10)', async (t) => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unitCopy('eth0')], { encoding: 'utf8' });
    const level = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout)?.[1]);
    t.ok(level < 5, `exposure ${level}`);
  });
}

/** The cron line: its variables and its command, with this test's folders and this checkout. */
function cronCommand(dir: string): { command: string; vars: Record<string, string>; lock: string } {
  const lines = fs.readFileSync(CRON, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  const vars: Record<string, string> = {};
  for (const l of lines.filter((l) => /^\w+=/.test(l))) vars[l.slice(0, l.indexOf('='))] = l.slice(l.indexOf('=') + 1);
  const job = lines.find((l) => /^[\d*]/.test(l)) as string;
  // minute hour day month weekday user command
  const command = job.trim().split(/\s+/).slice(6).join(' ');
  const lock = path.join(dir, 'hourly.lock');
  return {
    command: command.replace(`${STATE_DIR}/hourly.lock`, lock).replace('/usr/local/lib/flowseek/flowseek-hourly.sh', HOURLY),
    vars: { ...vars, PCAP_DIR: path.join(dir, 'pcap'), DATASET: path.join(dir, 'dataset'), STATE: path.join(dir, 'state'), FLOWSEEK: BIN },
    lock,
  };
}

const hourName = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3600e3).toISOString().replace(/^(\d+)-(\d+)-(\d+)T(\d+).*/, '$1$2$3-$4');
const listing = (dir: string) => fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).sort() : [];

/** A cron job in folders of the test's own (the captures' one made), and a run of its command, with
 * FLOWSEEK_OPTIONS when given (else the cron line's). */
function cronJob(prefix: string) {
  const dir = fs.mkdtempSync(path.join(tmpdir(), prefix));
  const job = cronCommand(dir);
  const pcaps = path.join(dir, 'pcap');
  fs.mkdirSync(pcaps);
  const run = (options?: string) => spawnSync('sh', ['-c', job.command],
    { encoding: 'utf8', env: { ...env, ...job.vars, TZ: 'UTC', ...(options === undefined ? {} : { FLOWSEEK_OPTIONS: options }) }, timeout: 60000 });
  return { ...job, dir, pcaps, run };
}

t.test('the cron job: rotated hours into the dataset once each, a truncated one with exit 1, a held lock skips', { skip: NO_ORACLE }, async (t) => {
  const { dir, command, vars, lock, pcaps, run } = cronJob('cron-');
  t.match(command, /^flock -n /, 'the command takes the lock without waiting');
  const oracle = fs.readFileSync(path.join(ORACLE, 'pcaps', 'google_ssl.pcap'));
  fs.copyFileSync(path.join(ROOT, 'samples', 'sample.pcap'), path.join(pcaps, `eth0-${hourName(1)}.pcap`));
  fs.writeFileSync(path.join(pcaps, `eth0-${hourName(2)}.pcap`), oracle.subarray(0, oracle.length - 100)); // cut mid-record
  fs.copyFileSync(path.join(ROOT, 'samples', 'sample.pcap'), path.join(pcaps, `eth0-${hourName(0)}.pcap`)); // still being written

  const first = run();
  t.equal(first.status, 1, 'exit 1: one hour was cut short');
  t.match(first.stderr, /^flowseek: (error|warning): .*google_ssl|truncated/m, 'flowseek says why');
  t.match(first.stderr, /flowseek-hourly: .* read with errors/);
  const parts = listing(vars.DATASET).filter((f) => f.endsWith('.parquet'));
  t.equal(parts.length, 2, `two hours read, the current one not (${parts.join(' ')})`);
  t.same(listing(vars.STATE).filter((f) => f.endsWith('.done')), [`${hourName(2)}.done`, `${hourName(1)}.done`].sort());
  t.notOk(listing(vars.STATE).some((f) => f.startsWith('staging')), 'no staging folder left');
  const rows = await query(`select count(*) from read_parquet('${vars.DATASET}/**/*.parquet')`);
  t.ok(Number(rows.rows[0][0]) > 6, `${rows.rows[0][0]} flows in the dataset`);

  const again = run();
  t.equal(again.status, 0, 'a second run has nothing to do');
  t.same(listing(vars.DATASET).filter((f) => f.endsWith('.parquet')), parts, 'no hour read twice');

  // another run holds the lock: this one ends at once and changes nothing
  fs.rmSync(path.join(vars.STATE, `${hourName(1)}.done`));
  // its own process group: flock's child (sleep) holds the lock too
  const holder = spawn('flock', [lock, 'sleep', '30'], { stdio: 'ignore', detached: true });
  const release = () => { try { process.kill(-(holder.pid as number), 'SIGTERM'); } catch { /* gone */ } };
  t.teardown(release);
  for (let i = 0; i < 50 && spawnSync('flock', ['-n', lock, 'true']).status === 0; i++) await new Promise((r) => setTimeout(r, 100));
  const before = listing(dir);
  const started = Date.now();
  const skipped = run();
  t.equal(skipped.status, 1, 'flock -n: exit 1');
  t.ok(Date.now() - started < 2000, `ended at once (${Date.now() - started} ms)`);
  t.equal(skipped.stdout + skipped.stderr, '', 'silently');
  t.same(listing(dir), before, 'nothing touched');
  release();
  await new Promise((r) => holder.on('exit', r));
  // flock may exit before its child (sleep), which holds the lock too: the lock is free once it says so
  for (let i = 0; i < 50 && spawnSync('flock', ['-n', lock, 'true']).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const freed = run();
  t.equal(freed.status, 0, `once the lock is free, the hour is read ${freed.stderr}`);
  t.equal(listing(vars.DATASET).filter((f) => f.endsWith('.parquet')).length, 3, 'its flows added as a new part');
});

t.test('the cron job: an hour without a flow is done, and holds back no later hour', async (t) => {
  const { vars, pcaps, run } = cronJob('cron-empty-');
  const sample = fs.readFileSync(path.join(ROOT, 'samples', 'sample.pcap'));
  fs.writeFileSync(path.join(pcaps, `eth0-${hourName(3)}.pcap`), sample);
  fs.writeFileSync(path.join(pcaps, `eth0-${hourName(2)}.pcap`), sample.subarray(0, 24)); // its header, no packet
  fs.writeFileSync(path.join(pcaps, `eth0-${hourName(1)}.pcap`), sample);
  const r = run();
  t.equal(r.status, 0, r.stderr);
  t.same(listing(vars.STATE).filter((f) => f.endsWith('.done')), [3, 2, 1].map((h) => `${hourName(h)}.done`).sort());
  t.equal(listing(vars.DATASET).filter((f) => f.endsWith('.parquet')).length, 2, 'the two hours with flows in the dataset');
});

t.test('the cron job: a read that failed (an error line, exit 1) is not marked done; its flows are not moved in', async (t) => {
  const { dir, vars, pcaps, run } = cronJob('cron-failed-');
  fs.copyFileSync(path.join(ROOT, 'samples', 'sample.pcap'), path.join(pcaps, `eth0-${hourName(1)}.pcap`));
  // a plugin that fails the run at the fourth flow: three flows written, the others missing
  const plugin = path.join(dir, 'fails.js');
  fs.writeFileSync(plugin, `module.exports = { name: 'fails', onExpire() { this.n = (this.n || 0) + 1; if (this.n === 4) throw new Error('boom'); } };\n`);
  const failed = run(`--batch-size 1 --plugin ${plugin} --plugin-errors fail`);
  t.equal(failed.status, 1);
  t.match(failed.stderr, /flowseek: error: plugin fails: onExpire threw: boom/);
  t.match(failed.stderr, /flowseek-hourly: .*: the read failed \(above\); the hour will be read again/);
  t.same(listing(vars.STATE).filter((f) => f.endsWith('.done')), [], 'not done (it was, with flows missing for good)');
  t.same(listing(vars.DATASET).filter((f) => f.endsWith('.parquet')), [], 'nothing moved in');
  t.notOk(listing(vars.STATE).some((f) => f.startsWith('staging') || f.startsWith('stderr')), 'nothing left in the state folder');
  const again = run('--stats');
  t.equal(again.status, 0, again.stderr);
  t.same(listing(vars.STATE).filter((f) => f.endsWith('.done')), [`${hourName(1)}.done`], 'read whole the next time');
});

/** The unit's identity without systemd: setpriv gives what DynamicUser and AmbientCapabilities give. */
const tag = String(process.pid % 100000);
const NS_A = `fsvA${tag}`, NS_B = `fsvB${tag}`, VA = `fsva${tag}`, VB = `fsvb${tag}`;
const missing = !has('setpriv') ? 'setpriv (util-linux) missing' :
  vethPair({ ns: NS_A, dev: VA, addr: '10.78.0.1' }, { ns: NS_B, dev: VB, addr: '10.78.0.2' });
if (missing) {
  t.test('the unit\'s ExecStart as the unit runs it', { skip: missing }, async () => undefined);
} else {
  t.teardown(() => deleteNamespaces(NS_A, NS_B));
  t.test('the unit\'s ExecStart, as an unprivileged user with the ambient capabilities: captures, SIGTERM flushes, exit 0', { skip: binForOthers().why }, async (t) => {
    // a folder the unprivileged user can reach (the test's own temporary folder is private)
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'flowseek-unit-'));
    t.teardown(() => fs.rmSync(state, { recursive: true, force: true }));
    fs.chmodSync(state, 0o755);
    fs.chownSync(state, 65534, 65534);
    const exec = section(fs.readFileSync(UNIT, 'utf8'), 'Service').get('ExecStart') as string;
    const argv = exec.split(/\s+/).map((a) => a.replace(INSTALLED, binForOthers().bin as string).replace(STATE_DIR, state).replace('%i', VA));
    // env -i: a service's bare environment (and none of the test runner's loaders)
    const child: ChildProcess = spawn('ip', ['netns', 'exec', NS_A, 'env', '-i', `PATH=${process.env.PATH}`, 'setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups',
      '--inh-caps', '+net_raw,+net_admin', '--ambient-caps', '+net_raw,+net_admin', '--bounding-set', '-all,+net_raw,+net_admin',
      '--no-new-privs', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stderr = '';
    child.stderr?.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 100 && !stderr.includes('capturing on'); i++) await new Promise((r) => setTimeout(r, 100));
    t.match(stderr, /capturing on/, 'the capture opened without root');
    // "capturing on" comes before the worker's packet socket is open: wait for the socket itself
    const sockets = () => spawnSync('ip', ['netns', 'exec', NS_A, 'cat', '/proc/net/packet'], { encoding: 'utf8' }).stdout.trim().split('\n').length - 1;
    for (let i = 0; i < 100 && sockets() === 0; i++) await new Promise((r) => setTimeout(r, 100));
    t.equal(sockets(), 1, 'one packet socket open in the namespace');
    await new Promise((r) => setTimeout(r, 300));
    const ping = spawnSync('ip', ['netns', 'exec', NS_B, 'ping', '-c', '3', '-i', '0.2', '10.78.0.1'], { encoding: 'utf8' });
    t.equal(ping.status, 0, `three echoes answered ${ping.stderr}`);
    await new Promise((r) => setTimeout(r, 1500)); // packets still in the kernel's ring at SIGTERM are not read yet (issue 18)
    child.kill('SIGTERM');
    const started = Date.now();
    t.equal(await exited, 0, 'SIGTERM: exit 0');
    t.ok(Date.now() - started < 10000, 'promptly');
    for (const line of stderr.trim().split('\n')) t.doesNotThrow(() => JSON.parse(line), `a JSON log line: ${line.slice(0, 80)}`);
    const parts = listing(path.join(state, VA)).filter((f) => f.endsWith('.parquet'));
    t.equal(parts.length, 1, 'one part written, owned by the unprivileged user');
    const icmp = await query(`select sum(bidirectional_packets) from read_parquet('${path.join(state, VA, parts[0])}') where protocol = 1`);
    t.equal(Number(icmp.rows[0][0]), 6, 'the three echoes and their replies');
    t.equal(fs.statSync(path.join(state, VA, parts[0])).uid, 65534);
  });
}
