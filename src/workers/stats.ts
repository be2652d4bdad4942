/** Several meters' counters as one run's. */
import { NativeStats } from '../native';

/**
 * On files every meter counts every frame it was shown (worker processes each read all of them;
 * lanes each report the run's packets: their one reader's count, or, where each reads the files
 * itself, the frames every lane read for its own partition, so that a file one lane could not open
 * is not counted whole), so frame counts are the largest, not the sum; flows are each one meter's,
 * so they add up. Live, each fanout member sees its own frames: all add up.
 * Each file's read error is named once (lanes say it once between them, and a line said by several
 * meters is kept once); the files left out are counted by every lane for all of them, and by each
 * worker process for itself over the same files: the largest count, not the sum.
 */
export function mergeStats(all: readonly (NativeStats | undefined)[], live: boolean, flowsExported: number): NativeStats {
  const some = all.filter((s): s is NativeStats => Boolean(s));
  const sum = (k: keyof NativeStats) => some.reduce((n, s) => n + (s[k] as number), 0);
  const max = (k: keyof NativeStats) => some.reduce((n, s) => Math.max(n, s[k] as number), 0);
  const ignoredBy: Record<string, number> = {};
  for (const s of some) {
    for (const [k, n] of Object.entries(s.ignoredBy)) {
      if (k === 'other_partition') continue;
      ignoredBy[k] = live ? (ignoredBy[k] ?? 0) + n : Math.max(ignoredBy[k] ?? 0, n);
    }
  }
  return {
    packets: live ? sum('packets') : max('packets'), processed: sum('processed'),
    ignored: Object.values(ignoredBy).reduce((a, b) => a + b, 0), ignoredBy,
    flowsCreated: sum('flowsCreated'), flowsExported, flowsIdle: sum('flowsIdle'), flowsActive: sum('flowsActive'),
    flowsFlushed: sum('flowsFlushed'), flowsEvicted: sum('flowsEvicted'), allocFailures: sum('allocFailures'), activeFlows: sum('activeFlows'),
    detectingFlows: sum('detectingFlows'), tableBytes: sum('tableBytes'), bytesRead: max('bytesRead'), oversizeRecords: max('oversizeRecords'),
    retimed: live ? sum('retimed') : max('retimed'), retimedMaxMs: max('retimedMaxMs'),
    readErrors: max('readErrors'), readErrorsLeftOut: max('readErrorsLeftOut'), overlappingFiles: max('overlappingFiles'), kernelReceived: sum('kernelReceived'), kernelDropped: sum('kernelDropped'),
    warnings: [...new Set(some.flatMap((s) => s.warnings.split('\n')).filter(Boolean))].join('\n'),
  };
}
