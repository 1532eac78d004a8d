// A release tag's job at the relay (issue 18), against real git and a local bare repository: the
// tag is fetched from the relay's own remote, must peel to the job's commit (annotated tags too),
// and that commit must be on git.branch or one of git.tagBranches; anything else is refused with a
// reason naming the tag and the branches.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from '../../relay/pipeline/git-error.ts';
import { GitSource, type GitSourceOptions } from '../../relay/pipeline/git-source.ts';
import { createGitFixture, type GitFixture } from '../support/git-fixture.ts';

let repo: GitFixture;
let scratch: string;

function source(overrides: Partial<GitSourceOptions> = {}): GitSource {
  return new GitSource({ remote: repo.bare, branch: 'main', cacheDir: join(scratch, 'cache'), ...overrides });
}

async function refusal(promise: Promise<unknown>): Promise<GitError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitError);
  return error as GitError;
}

/** Tags `sha` and pushes the tag: annotated (a tag object) or lightweight. Returns what the tag ref points at. */
async function pushTag(tag: string, sha: string, kind: 'annotated' | 'lightweight'): Promise<string> {
  if (kind === 'annotated') await repo.git('tag', '-a', tag, '-m', `Release ${tag}`, sha);
  else await repo.git('tag', tag, sha);
  await repo.git('push', '--quiet', 'origin', `refs/tags/${tag}`);
  return repo.git('rev-parse', `refs/tags/${tag}`);
}

beforeEach(async () => {
  repo = await createGitFixture();
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-git-tag-'));
});

afterEach(async () => {
  await repo.dispose();
  await rm(scratch, { recursive: true, force: true });
});

describe('a release tag\'s commit', () => {
  it('an annotated tag on the branch deploys its commit; the tag object itself is no commit to deploy', async () => {
    const sha = await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'Release one');
    const tagObject = await pushTag('v1.0.0', sha, 'annotated');
    expect(tagObject).not.toBe(sha);
    await expect(source().fetchTaggedCommit('v1.0.0', sha)).resolves.toMatchObject({ sha, message: 'Release one' });
    const refused = await refusal(source().fetchTaggedCommit('v1.0.0', tagObject));
    expect(refused.code).toBe('tag_mismatch');
  });

  it('a lightweight tag on the branch deploys its commit', async () => {
    const sha = await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'Release two');
    expect(await pushTag('v2.0.0', sha, 'lightweight')).toBe(sha);
    await expect(source().fetchTaggedCommit('v2.0.0', sha)).resolves.toMatchObject({ sha });
  });

  it('a tag on a commit of no allowed branch is refused, naming the tag and the branches', async () => {
    await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'Main');
    const elsewhere = await repo.commitOnOtherBranch('experiment', { 'configuration.yaml': 'homeassistant:\n  name: Lab\n' }, 'An experiment');
    await pushTag('v3.0.0', elsewhere, 'annotated');
    const notOn = await refusal(source().fetchTaggedCommit('v3.0.0', elsewhere));
    expect(notOn.code).toBe('not_on_branch');
    expect(notOn.message).toMatch(/^commit [0-9a-f]{7} of tag v3\.0\.0 is on none of the branches tags deploy from \(main\) of .*; refused, nothing was deployed\. .*git\.tagBranches/);
    // A release branch the remote does not have (deleted once merged) is named, and vouches for nothing.
    const missing = await refusal(source({ tagBranches: ['release/1.x'] }).fetchTaggedCommit('v3.0.0', elsewhere));
    expect(missing.code).toBe('not_on_branch');
    expect(missing.message).toContain(`(main; release/1.x, which ${repo.bare} does not have)`);
  });

  it('a tag on a release branch is accepted when that branch is in git.tagBranches', async () => {
    await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'Main');
    const hotfix = await repo.commitOnOtherBranch('release/1.x', { 'configuration.yaml': 'homeassistant:\n  name: Hotfix\n' }, 'Hotfix on 1.x');
    await pushTag('v1.0.1', hotfix, 'annotated');
    expect((await refusal(source().fetchTaggedCommit('v1.0.1', hotfix))).code).toBe('not_on_branch');
    await expect(source({ tagBranches: ['release/1.x'] }).fetchTaggedCommit('v1.0.1', hotfix)).resolves.toMatchObject({ sha: hotfix, message: 'Hotfix on 1.x' });
  });

  it('the commit a release tag deployed from a release branch is still the drift watch\'s and a capture\'s to read', async () => {
    await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'Main');
    const hotfix = await repo.commitOnOtherBranch('release/1.x', { 'configuration.yaml': 'homeassistant:\n  name: Hotfix\n' }, 'Hotfix on 1.x');
    // A branch job may never name it; the deployed commit (from the relay's own manifest) may be read.
    expect((await refusal(source({ tagBranches: ['release/1.x'] }).fetchCommit(hotfix))).code).toBe('not_on_branch');
    expect((await refusal(source().fetchDeployedCommit(hotfix))).code).toBe('not_on_branch');
    await expect(source({ tagBranches: ['release/1.x'] }).fetchDeployedCommit(hotfix)).resolves.toMatchObject({ sha: hotfix });
  });

  it('a job naming another commit of the branch than the tag\'s is refused (what a compromised edge could ask)', async () => {
    const tagged = await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'Tagged');
    const later = await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n  name: Later\n' }, 'Not tagged');
    await pushTag('v4.0.0', tagged, 'lightweight');
    const refused = await refusal(source().fetchTaggedCommit('v4.0.0', later));
    expect(refused.code).toBe('tag_mismatch');
    expect(refused.message).toBe(`tag v4.0.0 on ${repo.bare} points at commit ${tagged.slice(0, 7)}, not at ${later.slice(0, 7)} as the job says; refused, nothing was deployed (was the tag moved? push it again to deploy it)`);
  });

  it('a tag the remote does not have, or moved since, is refused', async () => {
    const first = await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'First');
    const second = await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n  name: Second\n' }, 'Second');
    expect((await refusal(source().fetchTaggedCommit('v9.9.9', first))).code).toBe('unknown_tag');
    await pushTag('v5.0.0', first, 'annotated');
    const git = source();
    await git.fetchTaggedCommit('v5.0.0', first);
    // Moved on the remote to another commit: the relay fetches it afresh, and sees it.
    await repo.git('tag', '-f', '-a', 'v5.0.0', '-m', 'Moved', second);
    await repo.git('push', '--quiet', '--force', 'origin', 'refs/tags/v5.0.0');
    expect((await refusal(git.fetchTaggedCommit('v5.0.0', first))).code).toBe('tag_mismatch');
  });

  it('a tag name git would refuse never reaches git fetch', async () => {
    const sha = await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'One');
    for (const tag of ['-v1', 'v1..0', 'v1:main', '../v1']) expect((await refusal(source().fetchTaggedCommit(tag, sha))).code, tag).toBe('bad_tag');
  });
});
