/**
 * The parts of man/flowseek.1 that come from the tables, so the page never drifts from what the
 * command line takes and the writers write: the option list (src/option-table.ts) and the output
 * fields (src/schema.ts). `npm run man` rewrites them between their markers; a test checks both are
 * current.
 */
import { expand, OptionGroup, OPTIONS, OptionSpec } from './option-table';
import { FIELDS, FieldGroup } from './schema';

export const BEGIN = '.\\" BEGIN FIELDS (generated from src/schema.ts by npm run man)';
export const END = '.\\" END FIELDS';
export const BEGIN_OPTIONS = '.\\" BEGIN OPTIONS (generated from src/option-table.ts by npm run man)';
export const END_OPTIONS = '.\\" END OPTIONS';

const GROUP_TITLE: Record<FieldGroup, string> = {
  base: 'Always',
  tunnel: 'Unless \\fB\\-\\-no\\-decode\\-tunnels\\fP',
  stats: 'With \\fB\\-\\-stats\\fP',
  splt: 'With \\fB\\-\\-splt\\fP \\fIn\\fP',
  dpi: 'Unless \\fB\\-\\-dissections 0\\fP',
  system: 'With \\fBcapture \\-\\-system\\-visibility\\fP',
  time_us: 'With \\fB\\-\\-time\\-precision us\\fP',
  time_ns: 'With \\fB\\-\\-time\\-precision ns\\fP',
  activity: 'With \\fB\\-\\-activity\\-features\\fP',
  payload: 'With \\fB\\-\\-payload\\-bytes\\fP \\fIn\\fP',
  header: 'With \\fB\\-\\-header\\-bytes\\fP \\fIn\\fP',
  community: 'With \\fB\\-\\-community\\-id\\fP',
  udps: 'Set by plugins',
};

/** A paragraph before the options of a group; the others follow on without one. */
const OPTION_HEADING: Partial<Record<OptionGroup, string>> = {
  beyond: 'Beyond NFStream (each off unless asked for):',
  plugins: 'Plugins (see PLUGINS):',
};

const roff = (s: string) => s.replace(/\\/g, '\\\\').replace(/-/g, '\\-').replace(/^\./, '\\&.');

export function fieldsSection(): string {
  const lines = [BEGIN];
  let group: FieldGroup | undefined;
  for (const f of FIELDS) {
    if (f.group !== group) {
      group = f.group;
      lines.push('.PP', `${GROUP_TITLE[group]}:`);
    }
    lines.push('.TP', `.B ${roff(f.name)}`, `${roff(f.type)}${f.unit ? `, ${roff(f.unit)}` : ''}: ${roff(f.doc)}.`);
  }
  lines.push(END);
  return lines.join('\n');
}

/** "-o, --output" with its value, bold and italic. */
function heading(spec: OptionSpec): string {
  const value = spec.kind === 'switch' ? '' : ` \\fI${roff(spec.choices?.join('|') ?? spec.arg ?? '')}\\fP`;
  return spec.flags.split(', ').map((f) => `\\fB${roff(f)}\\fP${value}`).join(', ');
}

/** The table's text as roff: escaped, **bold** and __italic__, in lines of at most 100 characters. */
function paragraph(text: string): string[] {
  const marked = roff(text).replace(/\*\*(.+?)\*\*(?!\*)/g, '\\fB$1\\fP').replace(/__(.+?)__/g, '\\fI$1\\fP');
  const lines: string[] = [];
  let line = '';
  for (const word of marked.split(' ')) {
    if (line && line.length + 1 + word.length > 100) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  // a line that begins with a dot or a quote would be a request
  return lines.map((l) => (/^[.']/.test(l) ? `\\&${l}` : l));
}

/** The values an option takes, where its text does not already say: what its refusal names. */
function withRange(text: string, spec: OptionSpec): string {
  if (!spec.must?.includes('{max}') || text.includes(`${spec.min} to ${spec.max}`)) return text;
  return `${text} Takes ${spec.min} to ${spec.max}.`;
}

export function optionsSection(): string {
  const lines = [BEGIN_OPTIONS];
  const shown = OPTIONS.filter((o) => !o.hidden);
  let group: OptionGroup | undefined;
  shown.forEach((spec, i) => {
    if (!spec.man) return; // explained with the option before it
    if (spec.group !== group) {
      group = spec.group;
      if (OPTION_HEADING[group]) lines.push('.PP', OPTION_HEADING[group] as string);
    }
    // the options after it that have no text of their own share its entry
    const along: OptionSpec[] = [];
    for (let k = i + 1; k < shown.length && !shown[k].man; k++) along.push(shown[k]);
    lines.push('.TP', [spec, ...along].map(heading).join(', '), ...paragraph(withRange(expand(spec.man, spec), spec)));
  });
  lines.push(END_OPTIONS);
  return lines.join('\n');
}

function replaceBetween(page: string, begin: string, end: string, section: string): string {
  const a = page.indexOf(begin);
  const b = page.indexOf(end);
  if (a < 0 || b < a) throw new Error(`man page: the markers ${begin} and ${end} are missing`);
  return page.slice(0, a) + section + page.slice(b + end.length);
}

/** The page with its generated field list replaced. */
export function withFields(page: string): string {
  return replaceBetween(page, BEGIN, END, fieldsSection());
}

/** The page with both generated sections replaced. */
export function withGenerated(page: string): string {
  return withFields(replaceBetween(page, BEGIN_OPTIONS, END_OPTIONS, optionsSection()));
}
