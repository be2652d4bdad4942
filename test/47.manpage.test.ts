/** The man page, --help and the option table agree; every option's range is enforced, naming it;
 * the page lists every field, and renders as clean roff. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { buildProgram } from '../src/cli';
import { withGenerated } from '../src/manpage';
import { nativeMeterOptions } from '../src/native-options';
import { CommandName, defaultOf, expand, longFlag, option, OPTIONS, optionKey, optionsOf } from '../src/option-table';
import { parseCaptureOptions, parseMeterOptions, parseReadOptions, RawCaptureOptions, RawReadOptions } from '../src/options';
import { FIELDS } from '../src/schema';
import { ROOT } from './helpers/run';

const PAGE = path.join(ROOT, 'man', 'flowseek.1');
const page = fs.readFileSync(PAGE, 'utf8');
const unroff = (s: string) => s.replace(/\\-/g, '-');

t.test('the option and field sections are generated from the tables and current', async (t) => {
  t.equal(page, withGenerated(page), 'npm run man changes nothing');
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

t.test('the option table is whole: each entry says what the others take from it', async (t) => {
  const commands: CommandName[] = ['program', 'read', 'capture', 'fields', 'interfaces'];
  t.equal(new Set(OPTIONS.map(longFlag)).size, OPTIONS.length, 'one entry per flag');
  for (const command of commands) {
    for (const spec of optionsOf(command)) {
      const flag = `${command} ${longFlag(spec)}`;
      if (spec.kind === 'number' || spec.kind === 'integer') t.ok(spec.must && spec.min !== undefined && spec.max !== undefined, `${flag}: a range and its words`);
      if (spec.kind === 'choice') t.ok(spec.choices?.length, `${flag}: its choices`);
      t.equal(spec.kind === 'switch', spec.arg === undefined, `${flag}: a value's name unless a switch`);
      for (const text of [spec.help, spec.man ?? '', spec.must ?? '']) t.notMatch(expand(text, spec), /undefined|\{/, `${flag}: every placeholder filled`);
    }
  }
  const shown = OPTIONS.filter((o) => !o.hidden);
  t.ok(shown[0].man, 'the first option has the man text the ones without follow');
});

/** Each command's --help, as commander prints it, with its lines joined again. */
function help(command: CommandName): string {
  const program = buildProgram(() => undefined);
  const cmd = command === 'program' ? program : program.commands.find((c) => c.name() === command);
  return (cmd?.helpInformation() ?? '').replace(/\n\s{3,}/g, ' ');
}

t.test('the raw options\' types are the table\'s: each key commander makes, a value of its kind, nothing else', async (t) => {
  // checked when the tests compile: a key the table lacks, or a value of the wrong kind, is an error
  const read: RawReadOptions = { idleTimeout: 30, splt: '5', stats: true, decodeTunnels: false, plugin: ['dhcp'], accountingMode: 2, output: 'x.csv' };
  const capture: RawCaptureOptions = { interface: 'lo', promisc: true, duration: 5, workers: '2' };
  // @ts-expect-error -- not an option (a misspelt one)
  const misspelt: RawReadOptions = { idleTimout: 30 };
  // @ts-expect-error -- a switch takes no text
  const wrongKind: RawReadOptions = { stats: 'yes' };
  // @ts-expect-error -- capture's options are not read's
  const captureOnly: RawReadOptions = { interface: 'lo' };
  // and at run time: every key the table names for read and capture is one commander hands over
  for (const command of ['read', 'capture'] as const) {
    const parsed = buildProgram(() => undefined).commands.find((c) => c.name() === command);
    const keys = new Set(parsed?.options.map((o) => o.attributeName()));
    t.same(optionsOf(command).map(optionKey).filter((k) => !keys.has(k)), [], `${command}: every key the table types, commander makes`);
  }
  t.ok(read && capture && misspelt && wrongKind && captureOnly);
});

t.test('--help shows each option of each command with the table\'s text and default, and no other', async (t) => {
  const commands: CommandName[] = ['program', 'read', 'capture', 'fields', 'interfaces'];
  for (const command of commands) {
    const text = help(command);
    const shown = new Set(text.match(/^ {2}(?:-\w, )?--[a-z][a-z-]*/gm)?.map((l) => l.trim().split(', ').pop()));
    shown.delete('--help');
    shown.delete('--version');
    const specs = optionsOf(command).filter((o) => !o.hidden);
    t.same([...shown].sort(), specs.map(longFlag).sort(), `${command}: the table's options, and no other`);
    for (const spec of specs) {
      const line = text.split('\n').find((l) => l.trim().startsWith(spec.flags)) ?? '';
      t.ok(line.replace(/\s+/g, ' ').includes(expand(spec.help, spec).replace(/\s+/g, ' ')), `${command} ${spec.flags}: the table's help`);
      if (spec.help.includes('{default}')) t.ok(line.includes(`default: ${spec.defaultText ?? spec.default}`), `${command} ${spec.flags}: its default`);
    }
  }
});

t.test('the man page says each option\'s value, range and default as the table does', async (t) => {
  const options = unroff(page.slice(page.indexOf('.SH OPTIONS'), page.indexOf('.SH OUTPUT FIELDS'))).replace(/\\f[BIPR]/g, '');
  const entries = options.split('\n.TP\n');
  for (const spec of OPTIONS.filter((o) => !o.hidden)) {
    const value = spec.kind === 'switch' ? '' : ` ${spec.choices?.join('|') ?? spec.arg}`;
    const entry = entries.find((e) => e.split('\n')[0].split(', ').some((h) => h === `${longFlag(spec)}${value}`));
    t.ok(entry, `${longFlag(spec)}${value} has an entry`);
    const text = (entry ?? '').replace(/\s+/g, ' ');
    // a default that is not "off" is said, and so is a range that is more than "positive"
    const said = spec.defaultText ?? (spec.default === 0 || spec.kind === 'switch' ? undefined : spec.default);
    if (said !== undefined) t.ok(text.includes(String(said)), `${longFlag(spec)}: its default ${said}`);
    if (spec.must?.includes('{max}')) t.ok(text.includes(`${spec.min} to ${spec.max}`), `${longFlag(spec)}: ${spec.min} to ${spec.max}`);
  }
});

/** What each command parses its options with. */
const parsers: Record<'read' | 'capture', (raw: Record<string, unknown>) => unknown> = {
  read: (raw) => parseReadOptions(['x.pcap'], raw),
  capture: (raw) => parseCaptureOptions({ interface: 'lo', ...raw }, 4),
};

t.test('every number option refuses a value out of its range, naming itself and what it must be', async (t) => {
  for (const command of ['read', 'capture'] as const) {
    for (const spec of optionsOf(command).filter((o) => o.kind === 'number' || o.kind === 'integer')) {
      const flag = longFlag(spec);
      // what needs another option to be given goes with it
      const company: Record<string, unknown> = flag === '--header-width' ? { headerBytes: '4' } : flag.startsWith('--ipfix-') ? { ipfix: '127.0.0.1:4739' }
        : flag === '--rotate-files' ? { flowsPerFile: '10', output: 'x.csv' } : flag === '--predict-at' ? { plugin: ['model'], model: 'm.onnx', features: 'bidirectional_packets' }
          : flag === '--flows-per-file' || flag === '--rotate' ? { output: 'x.csv' } : {};
      const message = new RegExp(`^"${flag}" must be ${expand(spec.must ?? '', spec).replace(/[()]/g, '\\$&')}, got "`);
      const bad = [spec.min !== undefined && spec.min > -Infinity ? spec.min - (spec.kind === 'integer' ? 1 : spec.min / 2 || 1) : undefined,
        spec.max !== undefined ? spec.max + 1 : undefined, 'x', ''];
      if (spec.kind === 'integer') bad.push((spec.min ?? 0) + 0.5);
      for (const value of bad.filter((v) => v !== undefined)) {
        t.throws(() => parsers[command]({ ...company, [optionKey(spec)]: String(value) }), { name: 'UsageError', message },
          `${command} ${flag} ${JSON.stringify(String(value))}`);
      }
      // the ends of the range are taken (with no limit on open flows, which the memory check would weigh)
      for (const value of [spec.min, spec.max]) {
        if (value === undefined || (command === 'capture' && flag === '--snaplen' && value === 0)) continue;
        // what multiplies memory is weighed by the memory check, whose refusal test/58 covers
        if (flag === '--max-active-flows' || flag === '--batch-size' || flag === '--workers') continue;
        const raw = { maxActiveFlows: '0', ...company, [optionKey(spec)]: String(value) };
        t.doesNotThrow(() => parsers[command](raw), `${command} ${flag} ${value} is taken`);
      }
    }
  }
});

t.test('every choice option refuses another value, naming itself and the choices', async (t) => {
  for (const spec of optionsOf('read').filter((o) => o.choices && o.commands.includes('read'))) {
    const flag = longFlag(spec);
    t.throws(() => parseReadOptions(['x.pcap'], { output: 'x.parquet', [optionKey(spec)]: 'nonsense' }), { name: 'UsageError', message: new RegExp(`^"${flag}" must be `) }, flag);
  }
});

t.test('the defaults are the table\'s, and the native meter is given every one of its options', async (t) => {
  const read = parseReadOptions(['x.pcap'], {});
  t.equal(read.idleTimeoutMs, 1000 * Number(defaultOf('--idle-timeout')));
  t.equal(read.activeTimeoutMs, 1000 * Number(defaultOf('--active-timeout')));
  t.equal(read.dissections, defaultOf('--dissections'));
  t.equal(read.maxActiveFlows, defaultOf('--max-active-flows'));
  t.equal(read.headerWidth, defaultOf('--header-width'));
  t.equal(read.activityGapMs, 1000 * Number(defaultOf('--activity-gap')));
  t.equal(read.batchSize, defaultOf('--batch-size'));
  t.equal(read.snaplen, defaultOf('--snaplen'));
  const capture = parseCaptureOptions({ interface: 'lo' }, 4);
  t.equal(capture.snaplen, defaultOf('--snaplen', 'capture'), 'capture\'s own snaplen');
  t.equal(capture.workers, 3, 'capture: cores - 1');
  t.equal(capture.systemVisibilityPollMs, defaultOf('--system-visibility-poll-ms'));
  const native = nativeMeterOptions({ ...parseMeterOptions({}), promisc: true, bufferBytes: 0 });
  // (a filter is the one option whose absence means none)
  for (const spec of OPTIONS.filter((o) => o.native && o.native !== 'bpf')) t.not(native[spec.native as keyof typeof native], undefined, `${spec.native} is given`);
  t.equal(native.timePrecision, 0, 'a choice goes as its index');
  t.equal(nativeMeterOptions(parseMeterOptions({ timePrecision: 'ns', accountingMode: 'payload' })).timePrecision, 2);
  t.equal(nativeMeterOptions(parseMeterOptions({ accountingMode: 'payload' })).accounting, 3);
  t.equal(option('--snaplen', 'capture').default, 1536);
});

t.test('the page renders without a warning', async (t) => {
  const r = spawnSync('groff', ['-ww', '-z', '-man', PAGE], { encoding: 'utf8' });
  t.equal(r.error, undefined, 'groff is installed (deps/install.sh --test)');
  t.equal(r.status, 0);
  t.equal(r.stderr, '', 'no warning');
});
