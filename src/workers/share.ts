/** --max-active-flows bounds the whole run: each of n meters gets its share (at least one flow). */
export function activeFlowsShare(maxActiveFlows: number, meters: number): number {
  if (!maxActiveFlows || meters <= 1) return maxActiveFlows;
  return Math.max(1, Math.floor(maxActiveFlows / meters));
}
