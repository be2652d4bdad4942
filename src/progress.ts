/**
 * A progress line for long reads, on a terminal only (never in a pipe or cron): share of the input
 * read, packets/s, flows so far, time left. Redrawn in place at most five times a second.
 */
import { grouped } from './grouped';

const WIDTH = 24;

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressBar {
  private readonly started = Date.now();
  private last = 0;
  private drawn = false;

  constructor(private readonly totalBytes: number, private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(bytesRead: number, packets: number, flows: number): void {
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const share = this.totalBytes > 0 ? Math.min(1, bytesRead / this.totalBytes) : 0;
    const elapsed = (now - this.started) / 1000;
    const filled = Math.round(share * WIDTH);
    const rate = elapsed > 0 ? Math.round(packets / elapsed) : 0;
    const eta = share > 0 ? (elapsed / share) * (1 - share) : NaN;
    const line = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ` +
      `${grouped(rate)} packets/s  ${grouped(flows)} flows  ETA ${clock(eta)}`;
    this.out.write(`\r${line.slice(0, Math.max(20, (this.out.columns || 100) - 1))}\x1b[K`);
    this.drawn = true;
  }

  /** Removes the line, so the summary that follows starts clean. */
  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
