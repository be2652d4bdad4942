/**
 * IPFIX over TCP: which messages the collector has. Node says when the kernel took a message, not
 * when the collector acknowledged it; the kernel's send queue says how many of the bytes taken it
 * still holds, so every message that ends before those has arrived.
 */
import * as net from 'node:net';
import { loadNative } from '../native';

/** The bytes the kernel holds for the socket (sent and not acknowledged, or not sent; a FIN sent
 * counts one), or undefined once Node has let go of its descriptor. Throws where the kernel will
 * not say (the error carries the errno). */
export function sendQueueBytes(s: net.Socket): number | undefined {
  // Node keeps the descriptor on its handle; on Linux it is there for every connected socket
  const fd = (s as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  if (s.destroyed || typeof fd !== 'number' || fd < 0) return undefined;
  return loadNative().sendQueueBytes(fd);
}

/** The messages the socket took, in order, until each is known to be acknowledged. */
export class AcknowledgedMessages {
  /** bytes of every message the socket took */
  private takenBytes = 0;
  /** messages taken and not yet acknowledged, oldest first: where each ends, its records */
  private readonly waiting: { end: number; records: number }[] = [];
  /** acknowledged so far */
  messages = 0;
  records = 0;

  took(bytes: number, records: number): void {
    this.takenBytes += bytes;
    this.waiting.push({ end: this.takenBytes, records });
  }

  /** The kernel still holds `queued` bytes of the data: the messages wholly before them arrived.
   * Bytes the kernel holds of a message whose write has not yet completed make the count low,
   * never high. */
  settle(queued: number): void {
    const acknowledged = this.takenBytes - queued;
    while (this.waiting.length && this.waiting[0].end <= acknowledged) {
      this.records += (this.waiting.shift() as { records: number }).records;
      this.messages++;
    }
  }

  /** records in the messages not (or not wholly) acknowledged */
  get unacknowledgedRecords(): number {
    return this.waiting.reduce((n, m) => n + m.records, 0);
  }
}
