/**
 * System visibility by kernel events: the BPF programs of native/bpf/sockevents.bpf.c report every
 * socket of this network namespace at the moment it connects, accepts, sends, receives or binds,
 * with its process; the native side keeps them in a table by (namespace, 5-tuple), and each batch
 * of flows is matched against it in one call. Nothing is polled, so a connection that lives a
 * millisecond is labelled, by a process that may be gone by then.
 */
import { loadNative, NativeAddon } from '../native';
import { SystemVisibilityMode } from '../options';
import { OwnerSource, Owners, SocketPoller } from './visibility';

export class KernelEvents implements OwnerSource {
  /** Loaded and running, or why not. graceMs: an entry outlives its closed socket this long. */
  static open(graceMs: number): KernelEvents | string {
    const why = loadNative().bpfStart(graceMs);
    return why === null ? new KernelEvents() : why;
  }

  /** the counters as they were when stopped */
  private last?: ReturnType<NativeAddon['bpfStats']>;

  private constructor() {}

  start(): void { /* running since open() */ }

  stop(): void {
    if (this.last) return;
    this.last = this.stats();
    loadNative().bpfStop();
  }

  owners(protocol: Float64Array, srcIp: string[], srcPort: Float64Array, dstIp: string[], dstPort: Float64Array): Owners {
    return loadNative().bpfMatch(protocol, srcIp, srcPort, dstIp, dstPort);
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
