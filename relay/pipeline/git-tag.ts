// A release tag's job (issue 18): the edge names `refs/tags/<tag>` and a commit. The relay trusts
// neither: it fetches the tag from its OWN configured remote (never an address from the edge),
// peels it (an annotated tag is an object pointing at the commit: `<tag>^{commit}`), and deploys only
// when it peels to exactly the job's commit, and that commit is on `git.branch` or one of
// `git.tagBranches`, as freshly fetched from the same remote. Anything else is refused before
// anything is written to the host. So a compromised edge can at most ask for another commit of the
// owner's own repository that is on a branch the owner allowed, as for a branch job (git-source.ts).
import { shortSha } from '../../shared/commit.ts';
import { isRefName } from '../../shared/git-ref.ts';
import { FETCH_TIMEOUT_MS, errorText, type GitCli } from './git-cli.ts';
import { GitError } from './git-error.ts';

/** What git says when the remote has no such ref. */
const MISSING_REF = /couldn't find remote ref|not our ref/i;

/** Where a fetched tag is kept in the relay's cache: its own namespace, apart from anything else. */
const TAG_NAMESPACE = 'refs/lanyard-tags/';

export interface TagCheck {
  remote: string;
  /** `git.branch` first, then `git.tagBranches`. */
  branches: string[];
}

/** The ref of the cache a branch is fetched into: the same place the branch job's fetch uses. */
export function remoteBranchRef(branch: string): string {
  return `refs/remotes/origin/${branch}`;
}

function fetchRefs(cli: GitCli, remote: string, refspecs: string[]) {
  // --end-of-options: a remote that begins with "-" is a path, never an option of git fetch.
  return cli.run(['-C', cli.cacheDir, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', remote, ...refspecs], FETCH_TIMEOUT_MS);
}

/**
 * Fetches each branch fresh from the remote; returns those it has. A release branch the remote no
 * longer has (deleted once merged) is skipped and its old head forgotten, so a stale head never
 * vouches for a commit. Run inside the cache lock.
 */
export async function fetchBranchHeads(cli: GitCli, remote: string, branches: string[]): Promise<string[]> {
  const fetched: string[] = [];
  for (const branch of branches) {
    try {
      await fetchRefs(cli, remote, [`+refs/heads/${branch}:${remoteBranchRef(branch)}`]);
      fetched.push(branch);
    } catch (error) {
      if (!MISSING_REF.test(errorText(error))) {
        throw new GitError('fetch_failed', cli.redact(`fetching branch ${branch} from ${cli.redact(remote)} failed: ${errorText(error)}`));
      }
      await cli.git(['update-ref', '-d', remoteBranchRef(branch)]);
    }
  }
  return fetched;
}

/** Whether `sha` is on one of the branches as last fetched (fetchBranchHeads). */
export async function onAnyBranch(cli: GitCli, sha: string, branches: string[]): Promise<boolean> {
  for (const branch of branches) {
    if (await cli.test(['merge-base', '--is-ancestor', sha, remoteBranchRef(branch)])) return true;
  }
  return false;
}

async function requireRefName(cli: GitCli, ref: string, what: string): Promise<void> {
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  if (name.startsWith('-') || !isRefName(name) || !(await cli.test(['check-ref-format', ref]))) {
    throw new GitError(what === 'tag' ? 'bad_tag' : 'bad_branch', `"${name.slice(0, 200)}" is not a valid ${what} name${what === 'tag' ? '' : '; check git.branch and git.tagBranches in the relay config'}`);
  }
}

/**
 * Fetches the allowed branches and the tag from the relay's own remote, and checks that the tag
 * peels to `sha` and that `sha` is on one of the branches. Run inside the cache lock. Throws a
 * GitError naming the tag and the branches when it is refused.
 */
export async function verifyTaggedCommit(cli: GitCli, check: TagCheck, tag: string, sha: string): Promise<void> {
  const remote = cli.redact(check.remote);
  await requireRefName(cli, `refs/tags/${tag}`, 'tag');
  for (const branch of check.branches) await requireRefName(cli, `refs/heads/${branch}`, 'branch');
  const fetched = await fetchBranchHeads(cli, check.remote, check.branches);
  const kept = `${TAG_NAMESPACE}${tag}`;
  try {
    await fetchRefs(cli, check.remote, [`+refs/tags/${tag}:${kept}`]);
  } catch (error) {
    if (MISSING_REF.test(errorText(error))) {
      throw new GitError('unknown_tag', `tag ${tag} is not on ${remote} (deleted since it was pushed?); nothing was deployed`);
    }
    throw new GitError('fetch_failed', cli.redact(`fetching tag ${tag} from ${remote} failed: ${errorText(error)}`));
  }
  const peeled = (await cli.git(['rev-parse', '--verify', '--end-of-options', `${kept}^{commit}`])).toString('utf8').trim();
  if (peeled !== sha) {
    throw new GitError(
      'tag_mismatch',
      `tag ${tag} on ${remote} points at commit ${shortSha(peeled)}, not at ${shortSha(sha)} as the job says; refused, nothing was deployed (was the tag moved? push it again to deploy it)`,
    );
  }
  if (await onAnyBranch(cli, sha, fetched)) return;
  throw new GitError(
    'not_on_branch',
    `commit ${shortSha(sha)} of tag ${tag} is on none of the branches tags deploy from (${check.branches.map((b) => (fetched.includes(b) ? b : `${b}, which ${remote} does not have`)).join('; ')}) of ${remote}; refused, nothing was deployed. Tag a commit of those branches, or add its release branch to git.tagBranches in relay.yaml`,
  );
}
