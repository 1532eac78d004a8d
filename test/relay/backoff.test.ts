// Reconnection delays grow, stay capped, and are spread out by jitter.
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../relay/channel/backoff.ts';

const policy = { initialMs: 500, maxMs: 60_000 };

describe('reconnection backoff', () => {
  it('doubles from the initial delay and never exceeds the cap', () => {
    const highest = (attempt: number) => backoffDelay(attempt, policy, () => 1);
    expect([0, 1, 2, 3].map(highest)).toEqual([500, 1000, 2000, 4000]);
    expect(highest(30)).toBe(60_000);
  });

  it('waits at least half the ceiling, so relays spread out but never spin', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(2000);
    const samples = Array.from({ length: 200 }, () => backoffDelay(5, policy));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(8000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(16_000);
    expect(new Set(samples).size).toBeGreaterThan(50);
  });
});
