/** README example: early-packet sequences (SPLT) as model inputs, one row per flow. */
import { FlowStreamer, parseMeterOptions } from '../src/index';

async function main(): Promise<void> {
  const options = parseMeterOptions({ splt: '5', dissections: '20' });
  const rows: { label: string; x: number[] }[] = [];
  for await (const flow of new FlowStreamer({ ...options, files: [process.argv[2] ?? 'samples/sample.pcap'] })) {
    const dir = flow.splt_direction as number[];
    const ps = flow.splt_ps as number[];
    // signed sizes: + client to server, - server to client, 0 no packet
    rows.push({ label: flow.application_name as string, x: ps.map((s, i) => (dir[i] < 0 ? 0 : dir[i] === 0 ? s : -s)) });
  }
  for (const r of rows) console.log(r.label.padEnd(6), JSON.stringify(r.x));
}

void main();
