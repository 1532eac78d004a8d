// The branch head as the hub last saw it: the commit a push moved the target's branch to, with its
// message and author, kept in meta. A gated target shows it as the commit it waits for; a deploy
// without a sha deploys it; a late push never moves it back (push-ordering.ts).
import type { TargetStatus } from '../../shared/api.ts';
import type { HubMeta } from './meta.ts';
import type { BranchHead } from './requests.ts';

const KEY = 'branch_head';

export function readBranchHead(meta: HubMeta): TargetStatus['branchHead'] {
  const raw = meta.get(KEY);
  return raw ? (JSON.parse(raw) as TargetStatus['branchHead']) : null;
}

export function storeBranchHead(meta: HubMeta, head: Omit<BranchHead, 'target'>): void {
  meta.set(KEY, JSON.stringify({ sha: head.sha, message: head.message, author: head.author, seenAt: head.at }));
}
