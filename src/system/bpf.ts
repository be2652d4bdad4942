/**
 * System visibility by kernel events: the BPF programs of native/bpf/sockevents.bpf.c report every
 * socket of this network namespace at the moment it connects, accepts, sends, receives or binds,
 * with its process; the native side keeps them in a table by (namespace, 5-tuple), and each batch
 * of flows is matched against it in one call. Nothing is polled, so a connection that lives a
 * millisecond is labelled, by a process that may be gone by then. The sockets already open when
 * the capture began are read once, through sock_diag, for the connections made before it.
 */
import { loadNative, NativeAddon } from '../native';
import { SystemVisibilityMode } from '../options';
import { OwnerSource, Owners, SocketPoller } from './visibility';

export class KernelEvents implements OwnerSource {
  /** Loaded and running, or why not. graceMs: an entry outlives its closed socket this long. */
  static open(graceMs: number): KernelEvents | string {
    const why = loadNative().bpfStart(graceMs);
    return why === null ? new KernelEvents(new SocketPoller(0, graceMs)) : why;
  }

  /** the counters as they were when stopped */
  private last?: ReturnType<NativeAddon['bpfStats']>;

  /** before: the sockets open when the capture began, with their owners, read once. A connection
   * made before it sends no event (its connect or accept came first; TCP's sends are not hooked),
   * so a flow no event matched is looked for there. */
  private constructor(private readonly before: SocketPoller) {}

  start(): void { this.before.poll(); }

  stop(): void {
    if (this.last) return;
    this.last = this.stats();
    loadNative().bpfStop();
  }

  owners(protocol: Float64Array, srcIp: string[], srcPort: Float64Array, dstIp: string[], dstPort: Float64Array): Owners {
    const o = loadNative().bpfMatch(protocol, srcIp, srcPort, dstIp, dstPort);
    this.before.fillOwners(o, protocol, srcIp, srcPort, dstIp, dstPort);
    return o;
  }

  stats(): ReturnType<NativeAddon['bpfStats']> { return this.last ?? loadNative().bpfStats(); }
}

/** The source a capture uses, and the one line that says which and why. */
export function openOwnerSource(mode: SystemVisibilityMode, pollMs: number, graceMs: number):
  { source: KernelEvents; line: string } | { source: SocketPoller; line: string; unavailable?: string } {
  const poller = () => new SocketPoller(pollMs, graceMs, Math.max(1000, pollMs));
  if (mode === 'poll') return { source: poller(), line: 'system visibility: sock_diag polling (--system-visibility-mode poll)' };
  const events = KernelEvents.open(graceMs);
  if (typeof events !== 'string') {
    return { source: events, line: 'system visibility: BPF kernel events (connect, accept, UDP send and receive, bind)' };
  }
  return { source: poller(), line: `system visibility: sock_diag polling, as BPF cannot be used: ${events}`, unavailable: events };
}
