// The relay fetches a pull request's head only from its own remote, as `refs/pull/<n>/head`, and
// plans it only when that ref is the commit the edge named (real git, a local bare repository).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from '../../relay/pipeline/git-error.ts';
import { GitSource } from '../../relay/pipeline/git-source.ts';
import { createGitFixture, type GitFixture } from '../support/git-fixture.ts';

let repo: GitFixture;
let scratch: string;

beforeEach(async () => {
  repo = await createGitFixture();
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-pull-head-'));
  await repo.commitAndPush({ 'automations.yaml': '[]\n' }, 'Initial');
});

afterEach(async () => {
  await repo.dispose();
  await rm(scratch, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<GitError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(GitError);
  return error as GitError;
}

describe('a pull request head', () => {
  it('is fetched from refs/pull/<n>/head and must be the commit the edge named', async () => {
    const head = await repo.commitOnOtherBranch('change', { 'groups.yaml': 'porch: {}\n' }, 'Porch group');
    await repo.git('--git-dir', repo.bare, 'update-ref', 'refs/pull/3/head', head);
    const git = new GitSource({ remote: repo.bare, branch: 'main', cacheDir: join(scratch, 'cache') });
    const info = await git.fetchPullHead(3, head);
    expect(info).toMatchObject({ sha: head, message: 'Porch group' });
    // The files of a commit that is on no allowed branch can be listed for the plan.
    expect((await git.listCommitFiles(head)).files.map((f) => f.path)).toContain('groups.yaml');

    const other = await repo.commitOnOtherBranch('later', { 'groups.yaml': 'attic: {}\n' }, 'Attic group');
    const moved = await failure(git.fetchPullHead(3, other));
    expect(moved.code).toBe('not_on_branch');
    expect(moved.message).toMatch(/pull request #3's head in .* is [0-9a-f]{7}, not [0-9a-f]{7} as the edge said/);

    const missing = await failure(git.fetchPullHead(4, head));
    expect(missing.code).toBe('fetch_failed');
    expect(missing.message).toMatch(/refs\/pull\/4\/head/);
  });
});
