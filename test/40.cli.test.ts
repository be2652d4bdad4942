/** The command line: output formats, files, and each kind of bad input. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { FIELDS } from '../src/schema';
import { grouped } from '../src/grouped';
import { DLT, ipv4, pcap, tcp, tmpdir, udp, writePcap } from './helpers/packets';
import { BIN, cli } from './helpers/run';

const recs = Array.from({ length: 6 }, (_, i) => ({ t: 1 + i * 0.01, frame: ipv4('10.0.0.1', '10.0.0.2', 17, udp(4000 + (i % 3), 53, Buffer.from('q'))) }));
const sample = writePcap('cli.pcap', DLT.RAW, recs);

t.test('CSV on stdout: header of NFStream names, one row per flow, summary on stderr', async (t) => {
  const r = cli(['read', sample, '--csv']);
  t.equal(r.status, 0);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines[0], FIELDS.filter((f) => ['base', 'tunnel', 'dpi'].includes(f.group)).map((f) => f.name).join(','));
  t.equal(lines.length, 4);
  t.match(r.stderr, /3 flows from 6 packets/);
});

t.test('JSONL to a file picked by extension; CSV lists as JSON cells', async (t) => {
  const out = path.join(tmpdir(), 'out.jsonl');
  const r = cli(['read', sample, '-o', out, '--splt', '3', '--stats']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '', 'nothing on stdout');
  const rows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(rows.length, 3);
  t.same(rows[0].splt_direction, [0, 0, -1]);
  const nfstream = new Set(['base', 'tunnel', 'stats', 'splt', 'dpi']);
  t.equal(Object.keys(rows[0]).length, FIELDS.filter((f) => nfstream.has(f.group)).length, 'every column of NFStream\'s: base, tunnel, stats, SPLT, application');
  const csv = cli(['read', sample, '--csv', '--splt', '2']).stdout.split('\n')[1];
  t.match(csv, /,"\[0,0\]","\[29,29\]","\[0,30\]",/, "two packets 30 ms apart, 29 bytes each");
  t.same(fs.readdirSync(tmpdir()).filter((f) => f.includes('.tmp')), [], 'no temporary file left');
});

t.test('bad input: one line naming the problem, non-zero exit, no stack', async (t) => {
  const notCapture = path.join(tmpdir(), 'notes.txt');
  fs.writeFileSync(notCapture, 'hello, not a capture\n');
  const empty = path.join(tmpdir(), 'empty.pcap');
  fs.writeFileSync(empty, '');
  const cases: [string, string[], number, RegExp][] = [
    ['missing file', ['read', '/nonexistent/x.pcap'], 1, /x\.pcap: no such file/],
    ['empty file', ['read', empty], 1, /empty\.pcap: is empty, not a capture file\n$/],
    ['not a capture', ['read', notCapture], 1, /cannot read as a capture file/],
    ['unknown flag', ['read', sample, '--frobnicate'], 2, /unknown option '--frobnicate'/],
    ['negative timeout', ['read', sample, '--idle-timeout', '-3'], 2, /"--idle-timeout" must be a number of seconds from 0 to 1000000000, got "-3"/],
    ['bad accounting mode', ['read', sample, '--accounting-mode', 'wire'], 2, /"--accounting-mode" must be one of/],
    ['bad splt', ['read', sample, '--splt', '256'], 2, /"--splt" must be a whole number of packets from 1 to 255/],
    ['unwritable output', ['read', sample, '-o', '/nonexistent/dir/out.csv'], 1, /cannot write .*the folder does not exist/],
    ['output is a directory', ['read', sample, '--csv', '-o', tmpdir()], 1, /is a directory/],
    ['unknown output format', ['read', sample, '-o', path.join(tmpdir(), 'x.xlsx')], 2, /name it \.csv, \.jsonl or \.parquet/],
    // a usage error (exit 2), said before anything opens
    ['bad BPF filter', ['read', sample, '--bpf', 'tcp port banana'], 2, /^flowseek: error: "--bpf" is not a filter libpcap can compile \(.*\), got "tcp port banana"\n$/],
    ['BPF port out of range', ['read', sample, '--bpf', 'udp port 70000'], 2, /"--bpf" is not a filter libpcap can compile \(illegal port number 70000 > 65535\)/],
    ['no file', ['read'], 2, /missing required argument/],
  ];
  for (const [name, args, code, msg] of cases) {
    const r = cli(args);
    t.equal(r.status, code, `${name}: exit ${code}`);
    t.match(r.stderr, msg, `${name}: says what is wrong`);
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
  }
});

t.test('truncated capture: flows up to the cut are written, then a warning and exit 1', async (t) => {
  const many = Array.from({ length: 20 }, (_, i) => ({ t: 1 + i, frame: ipv4('10.0.0.1', '10.0.0.2', 6, tcp(5000 + i, 80)) }));
  const whole = pcap(DLT.RAW, many);
  const cut = path.join(tmpdir(), 'cut.pcap');
  fs.writeFileSync(cut, whole.subarray(0, whole.length - 30));
  const r = cli(['read', cut, '--csv']);
  t.equal(r.status, 1);
  t.equal(r.stdout.trim().split('\n').length - 1, 19, 'the 19 whole records make 19 flows');
  t.match(r.stderr, /truncated/);
});

/** 20,000 UDP flows: more rows than a pipe holds, so a reader that leaves early is noticed */
const bigCapture = (name: string) => writePcap(name, DLT.RAW,
  Array.from({ length: 20000 }, (_, i) => ({ t: 1 + i / 1000, frame: ipv4('10.0.0.1', '10.0.0.2', 17, udp(i % 60000, 53)) })));

t.test('a run that stops waiting for nothing, its promise unsettled: exit 1, one line, its output removed', async (t) => {
  // the run opens its output, then waits on a promise nothing will settle (a bug of that kind
  // once ended the process with exit 0 and not a word)
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'stuck-'));
  const out = path.join(dir, 'flows.csv');
  const stub = path.join(dir, 'stuck.js');
  fs.writeFileSync(stub, `const cli = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'cli.js'))});
const { Sink } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'writers', 'sink.js'))});
cli.main = async () => { Sink.file(${JSON.stringify(out)}); await new Promise(() => {}); return 0; };
`);
  const r = spawnSync(process.execPath, ['-r', stub, BIN, 'read', sample, '-o', out], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 1, 'exit 1, not 0');
  t.equal(r.stderr, 'flowseek: internal error: the run stopped before its end, waiting for nothing; its output files were removed\n');
  t.same(fs.readdirSync(dir).sort(), ['stuck.js'], 'neither the output nor its temporary is left');
});

t.test('a closed stdout ends quietly', async (t) => {
  const big = bigCapture('big.pcap');
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${path.resolve(__dirname, '../../bin/flowseek')}" read "${big}" --csv | head -1`], { encoding: 'utf8' });
  t.equal(r.status, 0, 'exit 0');
  t.notMatch(r.stderr, /EPIPE|error/i);
});

// `flowseek read ... 2>&1 | head`: the summary, and any warning, then go to a closed pipe too. A
// diagnostic that cannot be written must not turn the run into a crash (Node's unhandled 'error'
// event on stderr, exit 1, a stack trace written nowhere).
t.test('a closed stderr as well: the run ends as it would have, without a crash', async (t) => {
  const big = bigCapture('big-stderr.pcap');
  const { spawnSync } = await import('node:child_process');
  const bin = path.resolve(__dirname, '../../bin/flowseek');
  const both = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" read "${big}" --csv 2>&1 | head -1`], { encoding: 'utf8' });
  t.equal(both.status, 0, 'stdout and stderr into a pipe closed after one line: exit 0');
  t.equal(both.stdout.trim().split('\n').length, 1, 'the one line head took');
  // only stderr closed (2>&- would leave fd 2 free for the next file opened: a pipe closed at once instead)
  const errOnly = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" read "${big}" --csv -o /dev/null 2> >(exec 0<&-; true); echo "rc=$?"`],
    { encoding: 'utf8' });
  t.match(errOnly.stdout, /^rc=0$/m, 'stderr closed by its reader: exit 0');
});

t.test('--help and --version', async (t) => {
  t.match(cli(['read', '--help']).stdout, /--idle-timeout <seconds>/);
  t.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+/);
  t.equal(cli(['--version']).status, 0);
});

// SIGHUP too (a terminal closed, a session ended): untaken, it killed the read at once (exit 129)
// and left its output as a hidden temporary file; so did SIGQUIT (Ctrl-\, exit 131) and SIGXCPU
// (a CPU time limit reached, before its SIGKILL)
for (const sig of ['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGXCPU'] as const) t.test(`${sig} in the middle of a read: flows seen so far are written whole, exit 130`, async (t) => {
  const { spawn } = await import('node:child_process');
  // a capture on standard input, of which the test sends the first half and keeps the pipe open:
  // the read is surely under way, and flows (one per host, idle 1 s) are being written, when the
  // signal comes, however loaded the machine
  const records = [];
  for (let i = 0; i < 20000; i++) {
    records.push({ t: 1000 + i / 100, frame: ipv4(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, '10.255.0.1', 17, udp(5000, 53)) });
  }
  const capture = pcap(DLT.RAW, records);
  const out = path.join(tmpdir(), `interrupted-${sig}.csv`);
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/flowseek'), 'read', '-', '-o', out, '--dissections', '0', '--idle-timeout', '1'],
    { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  // the whole half is in the pipe before the signal: a write still pending when the child exits
  // would fail (EPIPE), and flows are written a batch at a time from early on
  const sent = new Promise<void>((r) => child.stdin.write(capture.subarray(0, capture.length >> 1), () => r()));
  const dir = path.dirname(out);
  const writing = () => fs.readdirSync(dir).some((n) => n.startsWith(`.interrupted-${sig}.csv.`) && fs.statSync(path.join(dir, n)).size > 0);
  await sent;
  for (let i = 0; i < 600 && !writing() && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(child.exitCode, null, 'still reading when the signal is sent');
  child.kill(sig);
  const code = await exited;
  child.stdin.destroy();
  t.equal(code, 130, 'exit 130');
  t.match(stderr, new RegExp(`${sig}: stopping`));
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  t.ok(lines.length > 1000 && lines.length <= 10001, `the flows of the half sent were written (${lines.length - 1})`);
  const columns = lines[0].split(',').length;
  t.ok(lines.every((l) => l.split(',').length === columns), 'every row complete');
  t.same(fs.readdirSync(dir).filter((n) => n.startsWith(`.interrupted-${sig}.csv.`)), [], 'no temporary file');
});

// SIGUSR1 opened Node's inspector (a debugger on 127.0.0.1:9229, for any local user, in a process
// that may run as root), and SIGUSR2 ended the read at once, its output a hidden temporary
t.test('SIGUSR1 and SIGUSR2 in the middle of a read: a report line each, no debugger, the read goes on to its end', async (t) => {
  const { spawn } = await import('node:child_process');
  const records = [];
  for (let i = 0; i < 20000; i++) {
    records.push({ t: 1000 + i / 100, frame: ipv4(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, '10.255.0.1', 17, udp(5000, 53)) });
  }
  const capture = pcap(DLT.RAW, records);
  const out = path.join(tmpdir(), 'reported.csv');
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/flowseek'), 'read', '-', '-o', out, '--dissections', '0', '--idle-timeout', '1'],
    { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await new Promise<void>((r) => child.stdin.write(capture.subarray(0, capture.length >> 1), () => r()));
  // before the first batch the counters are not known yet, and the line says the flows so far
  const reports = () => stderr.match(/^flowseek: (\d+ packets, \d+ ignored; \d+ flows active, \d+ exported|\d+ flows exported so far)$/gm) ?? [];
  const until = async (done: () => boolean) => { for (let i = 0; i < 600 && !done() && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50)); };
  const dir = path.dirname(out);
  // flows are being written: the run is under way
  await until(() => fs.readdirSync(dir).some((n) => n.startsWith('.reported.csv.') && fs.statSync(path.join(dir, n)).size > 0));
  for (const [sig, n] of [['SIGUSR1', 1], ['SIGUSR2', 2]] as const) {
    child.kill(sig);
    await until(() => reports().length >= n);
    t.equal(reports().length, n, `${sig}: a report line`);
  }
  t.equal(child.exitCode, null, 'still reading');
  child.stdin.end(capture.subarray(capture.length >> 1));
  t.equal(await exited, 0, 'exit 0 at the end of the input');
  t.notMatch(stderr, /Debugger|inspector/i, 'no debugger opened');
  t.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 20001, 'every flow written');
});

// A read's counters came with its batches only: a read whose flows stay open (one long flow here)
// reported "0 flows exported so far" until its end, however much it had read
for (const workers of [1, 2]) {
  t.test(`a report in a read whose one flow stays open: the packets read so far (--workers ${workers})`, async (t) => {
    const { spawn } = await import('node:child_process');
    // twenty packets every 50 ms, 800 in all: fewer than a file's 1024 a look at the clock, and
    // than the reader's 8192 a report of its counters (both stayed at 0 for such a stream)
    const chunk = (from: number) => Array.from({ length: 20 }, (_, i) => ({ t: 1000 + (from + i) / 1000, frame: ipv4('10.0.0.1', '10.0.0.2', 17, udp(5000, 5001)) }));
    const whole = pcap(DLT.RAW, chunk(0));
    const out = path.join(tmpdir(), `long-flow-${workers}.csv`);
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/flowseek'), 'read', '-', '-o', out, '--dissections', '0', '--workers', String(workers)],
      { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const send = (b: Buffer) => new Promise<void>((r) => child.stdin.write(b, () => r()));
    await send(whole); // the header and the first packets
    let sent = 20;
    const times: [number, number][] = []; // when each count of packets had been sent
    // for 2 s: the meter reads on, its flow never ends
    for (; sent < 800; sent += 20) {
      await send(pcap(DLT.RAW, chunk(sent)).subarray(24));
      times.push([Date.now(), sent + 20]);
      await new Promise((r) => setTimeout(r, 50));
    }
    const signalled = Date.now();
    child.kill('SIGUSR1');
    // the counters are at most a second old (and the meter reads far faster than this is sent):
    // every packet sent a second and a half before the signal was counted
    const due = times.filter(([at]) => at <= signalled - 1500).pop()?.[1] ?? 1;
    let line: RegExpMatchArray | null = null;
    for (let i = 0; i < 100 && !line; i++) {
      await new Promise((r) => setTimeout(r, 50));
      line = stderr.match(/^flowseek: (\d+) packets, \d+ ignored; (\d+) flows active/m);
    }
    t.ok(line, `a line of counters, not the flows so far (${stderr.trim()})`);
    t.ok(line && Number(line[1]) >= due, `the packets read so far (${line?.[1]}; ${due} sent 1.5 s before, ${sent} in all)`);
    t.equal(line?.[2], '1', 'its one flow active');
    child.stdin.end();
    t.equal(await exited, 0);
    t.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 2, 'the flow written');
  });
}

t.test('fields: the columns for the options, from the schema that drives the writers', async (t) => {
  const plain = cli(['fields', '--json']);
  t.equal(plain.status, 0);
  const names = (JSON.parse(plain.stdout) as { name: string }[]).map((f) => f.name);
  t.same(names, FIELDS.filter((f) => ['base', 'tunnel', 'dpi'].includes(f.group)).map((f) => f.name));
  const header = cli(['read', sample, '--csv', '--stats', '--splt', '4', '-q']).stdout.split('\n')[0].split(',');
  const listed = (JSON.parse(cli(['fields', '--json', '--stats', '--splt', '4']).stdout) as { name: string }[]).map((f) => f.name);
  t.same(listed, header, 'what fields lists is what read writes');
  t.match(cli(['fields']).stdout, /^id\s+uint64/m);
  t.notMatch(cli(['fields', '--dissections', '0']).stdout, /application_name/);
});

t.test('fields into a closed pipe ends quietly', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${path.resolve(__dirname, '../../bin/flowseek')}" fields --stats --splt 9 | head -1`], { encoding: 'utf8' });
  t.equal(r.status, 0);
  t.equal(r.stderr, '');
});

// Node's own standard output for a file writes each chunk once and dropped what a short write left:
// the listing was cut and the command exited 0
t.test('fields into a file that reaches its size limit: exit 1 and one line, not a silent short listing', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const out = path.join(tmpdir(), 'fields-limited.txt');
  const r = spawnSync('bash', ['-c', 'ulimit -f 1; exec env -u NODE_OPTIONS "$0" "$1" fields --stats --splt 9 > "$2"', process.execPath,
    path.resolve(__dirname, '../../bin/flowseek'), out], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.equal(r.stderr, 'flowseek: error: cannot write standard output: the file size limit of this process is reached (ulimit -f, LimitFSIZE)\n');
  t.equal(fs.statSync(out).size, 1024, 'what the limit let through');
});

t.test('the summary groups digits as toLocaleString(\'en\') does, without loading Intl', async (t) => {
  for (const n of [0, 7, 999, 1000, 12345, 999999, 1000000, 1666347, 2 ** 53 - 1, -1, -1234567, 12.6]) {
    t.equal(grouped(n), n.toLocaleString('en', { maximumFractionDigits: 0 }), String(n));
  }
});
