// Reconnection delays: exponential, capped, with full jitter so a fleet of relays that lost the
// edge at the same moment does not come back in lockstep.
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt));
  // Never less than half the ceiling, so a restart storm still spreads out but nobody spins.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
