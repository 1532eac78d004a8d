// How the gating workflow went for recent commits, when it has not succeeded: under way, or
// concluded otherwise. Kept in the hub's meta so the status can say why the branch head is not
// deploying instead of "waiting" forever.
// One entry per commit (the latest run's conclusion wins), and only the last few commits: a
// verdict only ever matters for the branch head.
import { z } from 'zod';
import type { HubMeta } from './meta.ts';

const KEY = 'workflow_verdicts';

export const StoredVerdict = z.object({
  sha: z.string(),
  /** The workflow as the target's trigger names it. */
  workflow: z.string(),
  /** GitHub's conclusion: `failure`, `cancelled`, `timed_out`, `action_required`, ...; null: the run is under way. */
  conclusion: z.string().nullable(),
  /** The workflow run on GitHub (http(s) only), when the payload had one. */
  url: z.string().nullable(),
  at: z.number(),
});
export type StoredVerdict = z.infer<typeof StoredVerdict>;

/** Commits remembered; older verdicts are dropped first. */
export const MAX_VERDICTS = 10;

/** The meta value as stored; anything unreadable counts as no verdicts rather than breaking the status. */
export function parseVerdicts(raw: string | null): StoredVerdict[] {
  if (!raw) return [];
  try {
    const parsed = z.array(StoredVerdict).safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** The list with `verdict` as the one for its commit, newest last, at most MAX_VERDICTS long. */
export function withVerdict(list: readonly StoredVerdict[], verdict: StoredVerdict): StoredVerdict[] {
  return [...list.filter((v) => v.sha !== verdict.sha), verdict].slice(-MAX_VERDICTS);
}

/** The verdicts kept in the hub's meta. */
export function readVerdicts(meta: HubMeta): StoredVerdict[] {
  return parseVerdicts(meta.get(KEY));
}

/** Keeps `verdict` as the one for its commit. */
export function keepVerdict(meta: HubMeta, verdict: StoredVerdict): void {
  meta.set(KEY, JSON.stringify(withVerdict(readVerdicts(meta), verdict)));
}
