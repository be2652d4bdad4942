/** --max-active-flows bounds the whole run: each of n meters gets its share (at least one flow). */
export function activeFlowsShare(maxActiveFlows: number, meters: number): number {
  if (!maxActiveFlows || meters <= 1) return maxActiveFlows;
  return Math.max(1, Math.floor(maxActiveFlows / meters));
}

/** flows a lane on libuv's pool may have made that the writer has not taken yet: it meters on while
 * the writer encodes a burst (src/workers/lanes.ts) */
const LANE_AHEAD_FLOWS = 8192;

/** Batches of `batchSize` flows a lane may run ahead of the writer (at least one). */
export function batchesAhead(batchSize: number): number {
  return Math.max(1, Math.floor(LANE_AHEAD_FLOWS / batchSize));
}
