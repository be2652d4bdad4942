/**
 * The binding's options (native/addon_options.c): every option it is given is checked, and a bad
 * one is rejected with an error naming it — never replaced by a default of the binding's own.
 * And a spread's lanes are each opened once, from any thread.
 */
import * as path from 'node:path';
import t from 'tap';
import { loadNative, NativeOpenOptions } from '../src/native';
import { parseMeterOptions } from '../src/options';
import { FlowStreamer } from '../src/streamer';
import { NO_ORACLE, ORACLE } from './helpers/run';

const FILE = path.join(ORACLE, 'pcaps', 'ftp.pcap');
const good = (): NativeOpenOptions => new FlowStreamer({ ...parseMeterOptions({}), files: [FILE] }).nativeOptions();

t.test('good options open; each bad one is refused by name', { skip: NO_ORACLE }, async (t) => {
  const native = loadNative();
  const meter = native.open(good());
  t.ok(meter.nextSync(4096), 'the command line\'s options open a meter that makes a batch');
  meter.close();
  const bad: [string, unknown, RegExp][] = [
    ['idleTimeoutMs', -1, /option idleTimeoutMs must be a whole number from 0/],
    ['idleTimeoutMs', 1.5, /option idleTimeoutMs must be a whole number/],
    ['idleTimeoutMs', '120', /option idleTimeoutMs must be a number/],
    ['dissections', 256, /option dissections must be a whole number from 0 to 255/],
    ['accounting', 4, /option accounting must be a whole number from 0 to 3/],
    ['stats', 1, /option stats must be true or false/],
    ['headerWidth', 0, /option headerWidth must be a whole number from 1 to 1024/],
    ['timePrecision', 3, /option timePrecision/],
    ['files', 'a.pcap', /option files must be an array/],
    ['files', [1], /option files must hold strings/],
    ['endPorts', [70000], /option endPorts must be a whole number from 0 to 65535/],
    ['idleTimeout', 5, /unknown option idleTimeout/],
  ];
  for (const [name, value, message] of bad) {
    t.throws(() => native.open({ ...good(), [name]: value }), message, `${name}: ${JSON.stringify(value)}`);
  }
  const { splt: _splt, ...noSplt } = good();
  t.throws(() => native.open(noSplt as NativeOpenOptions), /option splt is required/, 'a required option left out');
  t.throws(() => native.open({ ...good(), files: [] }), /option files must list at least one file/);
  t.throws(() => native.open({ ...good(), interface: 'lo' }), /files .* or interface, not both/);
  // a live meter's defaults are the command line's: the binding has none of its own
  const live = { ...good(), files: undefined, interface: 'lo', promisc: false, snaplen: 1536, yieldMs: 1000 };
  t.throws(() => native.open({ ...live, yieldMs: undefined }), /option yieldMs is required with interface/);
  t.throws(() => native.open({ ...live, yieldMs: 5 }), /option yieldMs must be from 10 to 1000 with interface/);
  t.throws(() => native.open({ ...live, snaplen: 0 }), /option snaplen must be at least 1 with interface/);
  t.throws(() => native.open({ ...good(), activity: true, activityGapMs: undefined }), /activityGapMs is required with activity/);
  const m = native.open(good());
  t.throws(() => m.nextSync(0), /maxFlows must be a whole number from 1/, 'a batch of no flows');
  m.close();
});

t.test('a spread: each lane opened once; unknown spreads refused; lanes never opened released', { skip: NO_ORACLE }, async (t) => {
  const native = loadNative();
  const spread = native.openSpread(good(), 2);
  t.throws(() => native.openLane(spread.id + 1000, 0, good()), /no such spread, or its lane is taken/);
  const lane = native.openLane(spread.id, 0, good());
  t.throws(() => native.openLane(spread.id, 0, good()), /no such spread, or its lane is taken/, 'lane 0 again');
  t.throws(() => native.openLane(spread.id, 2, good()), /no such spread, or its lane is taken/, 'a lane past the last');
  // lane 1 is never opened: closing the spread releases it, and lane 0 still reads to the end
  spread.close();
  let batches = 0;
  for (let b = lane.nextSync(4096); b; b = lane.nextSync(4096)) batches++;
  const read = lane.stats().packets;
  t.ok(read > 0, `lane 0 alone reads to the end: ${read} packets, ${batches} batches`);
  lane.close();
  t.throws(() => native.openSpread(good(), 0), /from 1 to 256/);
});

t.test('openLanes: every lane of a spread at once, as openLane() opens each; none if one is taken', { skip: NO_ORACLE }, async (t) => {
  const native = loadNative();
  t.throws(() => native.openLanes(987654, good()), /no such spread/);
  const taken = native.openSpread(good(), 3);
  const one = native.openLane(taken.id, 1, good());
  t.throws(() => native.openLanes(taken.id, good()), /a lane is taken/, 'lane 1 was opened');
  // lane 0, which it claimed before it met lane 1, was let go as a lane that fails to open is
  t.throws(() => native.openLane(taken.id, 0, good()), /its lane is taken/, 'lane 0 let go');
  taken.close();
  let flows = 0;
  for (let b = one.nextSync(4096); b; b = one.nextSync(4096)) flows += b.length;
  // (its packets are its own share's alone since lanes count what some lane metered: the others never read)
  t.ok(one.stats().bytesRead > 0, `lane 1 still reads to the end (${one.stats().bytesRead} bytes, ${flows} flows)`);
  one.close();

  // all lanes at once read what lanes opened one by one read
  const read = (open: (id: number) => ReturnType<typeof native.openLane>[]) => {
    const spread = native.openSpread(good(), 3);
    const lanes = open(spread.id);
    let flows = 0;
    for (const l of lanes) for (let b = l.nextSync(4096); b; b = l.nextSync(4096)) flows += b.length;
    const packets = lanes.map((l) => l.stats().packets);
    for (const l of lanes) l.close();
    spread.close();
    return { flows, packets };
  };
  const together = read((id) => native.openLanes(id, good()));
  const inTurn = read((id) => [0, 1, 2].map((i) => native.openLane(id, i, good())));
  t.equal(together.packets.length, 3, 'three meters');
  t.ok(together.flows > 0, `${together.flows} flows`);
  t.same(together, inTurn, 'the same flows and packets as lanes opened one by one');
});
