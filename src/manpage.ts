/**
 * The part of man/flowseek.1 that comes from the field schema, so the page never drifts from what
 * the writers write: `npm run man` rewrites it between its markers; a test checks it is current.
 */
import { FIELDS, FieldGroup } from './schema';

export const BEGIN = '.\\" BEGIN FIELDS (generated from src/schema.ts by npm run man)';
export const END = '.\\" END FIELDS';

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

/** The page with its generated section replaced. */
export function withFields(page: string): string {
  const a = page.indexOf(BEGIN);
  const b = page.indexOf(END);
  if (a < 0 || b < a) throw new Error('man page: the FIELDS markers are missing');
  return page.slice(0, a) + fieldsSection() + page.slice(b + END.length);
}
