// An operator names a commit by the start of its sha, as `git log --oneline` prints it; the relay
// needs all 40 digits. The hub knows the commits pushed to the branch (the head) and those it
// deployed, and resolves the start among them, or says why it cannot: not a sha, more than one
// match, or none (then the full sha is asked for, which the relay checks is on the branch).
import { readBranchHead } from './branch-head.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';

/**
 * The full sha of a commit given by its start (7+ hex digits), among those this target knows: the
 * branch head and every commit it deployed. A full sha is taken as it is: the relay checks it is
 * on the branch.
 */
export function findCommit(hub: Hub, given: string): HubResult<{ sha: string }> {
  const prefix = given.trim().toLowerCase();
  if (!/^[0-9a-f]{7,40}$/.test(prefix)) {
    return refused(400, 'invalid_request', `"${given.slice(0, 64)}" is not a commit sha: give 7 to 40 hex digits, as \`git log --oneline\` prints them.`);
  }
  if (prefix.length === 40) return accepted({ sha: prefix });
  const matches = new Set<string>();
  const head = readBranchHead(hub.meta);
  if (head?.sha.startsWith(prefix)) matches.add(head.sha);
  for (const row of hub.sql.exec('SELECT DISTINCT sha FROM deployments WHERE substr(sha, 1, ?) = ?', prefix.length, prefix)) matches.add(String(row.sha));
  const found = [...matches];
  if (found.length === 1) return accepted({ sha: found[0]! });
  if (found.length > 1) {
    return refused(409, 'ambiguous_commit', `${prefix} is the start of ${found.length} commits this target knows (${found.map((s) => s.slice(0, 12)).join(', ')}): give more of the sha.`);
  }
  return refused(
    404,
    'unknown_commit',
    `No commit starting with ${prefix} was pushed to ${hub.config().branch} or deployed here: give the full 40-character sha (\`git rev-parse ${prefix}\`); the relay checks it is on the branch.`,
  );
}
