// The one place that maps a target name to its Durable Object.
import type { Env } from '../env.ts';

export function hubFor(env: Env, target: string) {
  return env.TARGET_HUB.get(env.TARGET_HUB.idFromName(target));
}
