// The pushes one target has seen, as moves of its branch (before -> after), so the hub can tell a
// push delivered late from a new one: GitHub does not promise to deliver pushes in the order they
// were made, and arrival order is no push order.
//
// The rule: a push that moved the branch from X to Y is stale when a push that moved it on from Y
// (before = Y) was already seen: the branch stood at Y and was pushed on from there later, so that
// other push is the newer one. A stale push deploys nothing and does not move the branch head. It is
// recorded like any other, so a chain delivered fully in reverse (3, 2, 1) still ends at push 3's
// commit: 2 is stale because of 3, and 1 because of 2.
//
// Force pushes: the rule speaks of where the branch stood, not of commit ancestry, so it holds for a
// force push too. Its `before` is no ancestor of its `after`, but it is still the commit the branch
// stood on when it was pushed, and a push whose `before` is its `after` was made after it. What a
// force push does add is that the branch can stand on the same commit twice (reset to an older
// commit, or the same commit pushed again), and then a move away from Y seen earlier may be from
// Y's first time there, older than the push that brought the branch back. So a push whose `before`
// is the branch head as the hub knows it is in order and never stale, whatever was seen leaving its
// commit: that covers a reset or re-push delivered in order. Only a revisit that is also delivered
// out of order stays ambiguous; it is judged stale, and the next push puts the branch right.
//
// Not covered: a late push whose successor is late too (pushes 1→2→3 arrive 3, 1, 2). When 1
// arrives nothing seen leaves its commit yet, so it is taken as new and supersedes 3; 2 is then stale
// (3 left its commit) and the head stays at 1 until the next push. Telling that apart needs the
// commit graph, which only the relay's git has.
//
// Branch creation (before = 000…0) records no move: no push ever leaves the zero commit (a deletion,
// after = 000…0, deploys nothing and never reaches the hub), so only its own `after` is checked.
const ZERO_SHA = /^0{40}$/;

/** How long seen pushes are remembered: GitHub redelivers for 3 days; ten times as long. */
export const PUSH_TRANSITION_RETENTION_MS = 30 * 24 * 3600 * 1000;

export interface PushTransition {
  before: string;
  after: string;
  /** The deployment that push made; null for a target that does not deploy on push. */
  deploymentId: string | null;
}

export class PushTransitions {
  constructor(private readonly sql: SqlStorage) {}

  /** The newest push seen that moved the branch on from `sha`, or null. */
  movedOnFrom(sha: string): PushTransition | null {
    const row = this.sql
      .exec('SELECT before_sha, after_sha, deployment_id FROM push_transitions WHERE before_sha = ? AND after_sha != before_sha ORDER BY seq DESC LIMIT 1', sha)
      .toArray()[0];
    if (!row) return null;
    return { before: String(row.before_sha), after: String(row.after_sha), deploymentId: row.deployment_id === null ? null : String(row.deployment_id) };
  }

  /**
   * The push seen that makes a push of `before` -> `after` stale, or null when it is new.
   * `head`: the branch head as the hub knows it before this push.
   */
  laterThan(before: string | null, after: string, head: string | null): PushTransition | null {
    if (before !== null && before === head) return null;
    return this.movedOnFrom(after);
  }

  record(before: string | null, after: string, deploymentId: string | null, at: number): void {
    if (before === null || ZERO_SHA.test(before) || before === after) return;
    this.sql.exec('INSERT INTO push_transitions (before_sha, after_sha, deployment_id, seen_at) VALUES (?, ?, ?, ?)', before, after, deploymentId, at);
    this.sql.exec('DELETE FROM push_transitions WHERE seen_at < ?', at - PUSH_TRANSITION_RETENTION_MS);
  }
}
