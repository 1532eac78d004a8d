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
// A late push whose successor is late too (pushes 1→2→3 arrive 3, 1, 2): when 1 arrives nothing
// seen leaves its commit yet, so it is taken as new, supersedes 3 and moves the head back to its
// commit. The repair comes with 2, which links them: after every push recorded (stale or not) the
// hub follows the recorded moves forward from its branch head (head -> the newest move leaving it
// -> …). When that chain reaches a commit N past the head, the head is behind: it moves to N, and a
// target that deploys on push deploys N (push-ordering.ts, followBranch). Two guards keep in-order
// pushes as they were:
//  - Only a push that records a move is followed (not a branch creation: the branch deleted and
//    created again on a commit it once left must not be dragged onto that old line), and the chain
//    must pass through the commit that push moved to (or start there): only the push that links the
//    head to later moves repairs anything.
//  - A chain that comes back to a commit it passed is a force push cycle (a→b, b→a): moves alone
//    cannot tell where on the cycle the branch stands, so nothing is repaired; the head as the
//    pushes put it stays (a reset delivered in order walks a → b → a, back to its head). The walk
//    also stops after MAX_CHAIN_STEPS moves, repairing nothing.
// Whatever arrives in between, until the linking push arrives the head stays at 1.
//
// Branch creation (before = 000…0) records no move: no push ever leaves the zero commit (a deletion,
// after = 000…0, deploys nothing and never reaches the hub), so only its own `after` is checked.
const ZERO_SHA = /^0{40}$/;

/** The longest chain of moves followed from the head; a longer one repairs nothing. */
export const MAX_CHAIN_STEPS = 1000;

/** How long seen pushes are remembered: GitHub redelivers for 3 days; ten times as long. */
export const PUSH_TRANSITION_RETENTION_MS = 30 * 24 * 3600 * 1000;

export interface PushTransition {
  before: string;
  after: string;
  /** The deployment that push made; null for a target that does not deploy on push. */
  deploymentId: string | null;
}

/** Where the recorded moves lead from the branch head: the commit, and the push that moved the branch to it. */
export interface ChainEnd {
  sha: string;
  /** The commit the chain started from (the head). */
  from: string;
  /** The deployment the push to `sha` made; null for a target that does not deploy on push. */
  deploymentId: string | null;
  /** The commit's message and author as its push gave them; null when not remembered. */
  commit: PushedCommit | null;
}

export interface PushedCommit {
  message: string;
  author: string | null;
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

  /**
   * Where the moves seen lead from `head`, when that is past it and the chain passes through
   * `through` (the commit the push just recorded moved to); null when nothing leaves the head, the
   * chain does not pass `through`, comes back to a commit it passed (a force push cycle) or is
   * longer than MAX_CHAIN_STEPS.
   */
  chainFrom(head: string, through: string): ChainEnd | null {
    const visited = new Set<string>([head]);
    let at: PushTransition | null = null;
    let sha = head;
    for (let step = 0; step < MAX_CHAIN_STEPS; step++) {
      const next = this.movedOnFrom(sha);
      if (!next) {
        if (!at || !visited.has(through)) return null;
        return { sha: at.after, from: head, deploymentId: at.deploymentId, commit: this.commit(at.after) };
      }
      if (visited.has(next.after)) return null;
      visited.add(next.after);
      at = next;
      sha = next.after;
    }
    return null;
  }

  /** The message and author a push gave for the commit it moved the branch to. */
  commit(sha: string): PushedCommit | null {
    const row = this.sql.exec('SELECT message, author FROM pushed_commits WHERE sha = ?', sha).toArray()[0];
    return row ? { message: String(row.message), author: row.author === null ? null : String(row.author) } : null;
  }

  /** Whether `record` keeps a move for this push: not for a branch creation or a push that moved nothing. */
  recordsMove(before: string | null, after: string): boolean {
    return before !== null && !ZERO_SHA.test(before) && before !== after;
  }

  record(before: string | null, after: string, deploymentId: string | null, at: number, commit: PushedCommit | null = null): void {
    if (commit) {
      this.sql.exec(
        'INSERT INTO pushed_commits (sha, message, author, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (sha) DO UPDATE SET message = excluded.message, author = excluded.author, seen_at = excluded.seen_at',
        after, commit.message, commit.author, at,
      );
      this.sql.exec('DELETE FROM pushed_commits WHERE seen_at < ?', at - PUSH_TRANSITION_RETENTION_MS);
    }
    if (!this.recordsMove(before, after)) return;
    this.sql.exec('INSERT INTO push_transitions (before_sha, after_sha, deployment_id, seen_at) VALUES (?, ?, ?, ?)', before, after, deploymentId, at);
    this.sql.exec('DELETE FROM push_transitions WHERE seen_at < ?', at - PUSH_TRANSITION_RETENTION_MS);
  }
}
