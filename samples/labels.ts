/** README example: iterate over the flows of a capture with their application labels. */
import { FlowStreamer, parseMeterOptions } from '../src/index';

async function main(): Promise<void> {
  const streamer = new FlowStreamer({ ...parseMeterOptions({}), files: [process.argv[2] ?? 'samples/sample.pcap'] });
  for await (const flow of streamer) {
    const dst = flow.ip_version === 6 ? `[${flow.dst_ip}]:${flow.dst_port}` : `${flow.dst_ip}:${flow.dst_port}`;
    const name = flow.requested_server_name ? `  ${flow.requested_server_name}` : '';
    console.log(`${flow.src_ip} -> ${dst}  ${flow.application_name}, ${flow.bidirectional_packets} packets${name}`);
  }
}

void main();
