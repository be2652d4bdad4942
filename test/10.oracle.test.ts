/** NFStream's own results on its test captures: id, packets and bytes, row for row. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { flows, NO_ORACLE, ORACLE } from './helpers/run';

const pcaps = path.join(ORACLE, 'pcaps');
const results = path.join(ORACLE, 'results');

if (NO_ORACLE) {
  t.test('NFStream\'s results, row for row', { skip: NO_ORACLE }, async () => undefined);
} else if (!fs.existsSync(results)) {
  t.fail(`the oracle is missing: expected NFStream's results in ${ORACLE}`);
} else {
  t.test('every oracle capture: id, bidirectional_packets, bidirectional_bytes match row for row', async (t) => {
    let files = 0, filesOk = 0, rows = 0, rowsOk = 0;
    const bad: string[] = [];
    for (const name of fs.readdirSync(results).sort()) {
      const expected = fs.readFileSync(path.join(results, name), 'utf8').trim().split('\n').slice(1)
        .filter(Boolean).map((l) => l.split(',').slice(0, 3).join(','));
      const got = (await flows([path.join(pcaps, name)]))
        .map((f) => [f.id, f.bidirectional_packets, f.bidirectional_bytes].join(','));
      files++;
      rows += expected.length;
      let same = got.length === expected.length;
      expected.forEach((e, i) => { if (got[i] === e) rowsOk++; else same = false; });
      if (same) filesOk++; else bad.push(`${name}: ${got.length} flows, expected ${expected.length}`);
    }
    t.comment(`oracle: ${filesOk}/${files} files and ${rowsOk}/${rows} flows match NFStream`);
    t.same(bad, [], 'no capture differs');
    t.ok(files >= 170, `all oracle captures were read (${files})`);
  });

  t.test('facebook.pcap first flow, field for field', async (t) => {
    const [f] = await flows([path.join(pcaps, 'facebook.pcap')], { stats: true, splt: '10' });
    t.match(f, {
      src_ip: '192.168.43.18', src_port: 52066, dst_ip: '66.220.156.68', dst_port: 443, protocol: 6,
      bidirectional_packets: 19, bidirectional_bytes: 5745, src2dst_packets: 9, src2dst_bytes: 1345,
      dst2src_packets: 10, dst2src_bytes: 4400, bidirectional_first_seen_ms: 1472393122365,
      bidirectional_last_seen_ms: 1472393123665, bidirectional_min_ps: 66, bidirectional_max_ps: 1454,
      bidirectional_mean_ps: 302.36842105263156, bidirectional_stddev_ps: 425.53315715259754,
    });
    t.same(f.splt_direction, [0, 1, 0, 0, 1, 1, 0, 1, 0, 1]);
    t.same(f.splt_ps, [74, 74, 66, 262, 66, 1454, 66, 1454, 66, 463]);
    t.same(f.splt_piat_ms, [0, 303, 0, 0, 313, 0, 0, 0, 0, 1]);
  });

  t.test('the four one_flow_* files read together are that one flow', async (t) => {
    const parts = ['one_flow_1_5.pcap', 'one_flow_6_10.pcap', 'one_flow_11_15.pcap', 'one_flow_16_19.pcap'];
    const got = await flows(parts.map((p) => path.join(pcaps, p)));
    t.equal(got.length, 1);
    t.match(got[0], { id: 0, bidirectional_packets: 19, bidirectional_bytes: 5745, src2dst_packets: 9,
      dst2src_packets: 10, src_ip: '192.168.43.18', src_port: 52066 });
  });
}
