// How long the hub waits for a relay: to say hello, to acknowledge a job, and between two signs of
// life during a job. Overridable through vars so tests can exercise every timeout in seconds.
import type { Env } from '../env.ts';

export interface ChannelTimings {
  helloTimeoutMs: number;
  ackTimeoutMs: number;
  leaseMs: number;
}

export const DEFAULT_TIMINGS: ChannelTimings = { helloTimeoutMs: 15_000, ackTimeoutMs: 15_000, leaseMs: 90_000 };

function positive(value: unknown, fallback: number): number {
  const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function channelTimings(env: Env): ChannelTimings {
  const vars = env as unknown as Record<string, unknown>;
  return {
    helloTimeoutMs: positive(vars.RELAY_HELLO_TIMEOUT_MS, DEFAULT_TIMINGS.helloTimeoutMs),
    ackTimeoutMs: positive(vars.RELAY_ACK_TIMEOUT_MS, DEFAULT_TIMINGS.ackTimeoutMs),
    leaseMs: positive(vars.RELAY_LEASE_MS, DEFAULT_TIMINGS.leaseMs),
  };
}
