// The commit a capture makes, with git plumbing in the relay's own repository (its git cache) on a
// temporary index: parent = the deployed commit, tree = the deployed tree with the host's edits
// (modified, added, deleted; under `git.subfolder` when one is set). Nothing touches a working
// tree, the deployed branch's ref or any other ref; the push sends the commit to one branch under
// CAPTURE_BRANCH_PREFIX, checked before git is called.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftChange } from '../../shared/drift.ts';
import { errorText, FETCH_TIMEOUT_MS, withCacheLock, type GitCli } from '../pipeline/git-cli.ts';
import { GitError } from '../pipeline/git-error.ts';
import { normaliseFolder } from '../pipeline/git-objects.ts';
import { captureRef } from './capture-branch.ts';

/** One file of the capture: its new content (null when the host deleted it). */
export interface CapturedEdit {
  /** Relative to the config root. */
  path: string;
  change: DriftChange;
  content: { kind: 'file'; bytes: Buffer; executable: boolean } | { kind: 'symlink'; target: string } | null;
}

export interface CaptureCommitRequest {
  base: string;
  subfolder: string;
  edits: readonly CapturedEdit[];
  message: string;
  /** `Name <email>` parts of the author and committer. */
  identity: { name: string; email: string };
  at: number;
}

const ZERO_OID = '0'.repeat(40);

/** git with a Buffer on stdin, in the cache, with the cache's clean environment plus `extra`. */
function gitWithInput(cli: GitCli, args: string[], input: Buffer | string, extra: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['-C', cli.cacheDir, ...args], { env: { ...cli.env(), ...extra }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new GitError('git_failed', cli.redact(`git ${args[0]} failed in the relay's cache: ${errorText(Object.assign(error, { stderr }))}`)));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/** The commit (its sha) with the deployed tree plus the edits; `base` must be in the cache. */
export async function makeCaptureCommit(cli: GitCli, request: CaptureCommitRequest): Promise<string> {
  const folder = normaliseFolder(request.subfolder);
  const prefix = folder ? `${folder}/` : '';
  const index = join(cli.cacheDir, `lanyard-capture-${process.pid}-${Date.now()}.index`);
  const withIndex = { GIT_INDEX_FILE: index };
  return withCacheLock(cli.cacheDir, async () => {
    try {
      await gitWithInput(cli, ['read-tree', '--end-of-options', `${request.base}^{tree}`], '', withIndex);
      const lines: string[] = [];
      for (const edit of request.edits) {
        const path = `${prefix}${edit.path}`;
        if (!edit.content) {
          lines.push(`0 ${ZERO_OID}\t${path}\0`);
          continue;
        }
        const bytes = edit.content.kind === 'file' ? edit.content.bytes : Buffer.from(edit.content.target, 'utf8');
        const oid = (await gitWithInput(cli, ['hash-object', '-w', '--stdin'], bytes, {})).trim();
        const mode = edit.content.kind === 'symlink' ? '120000' : edit.content.executable ? '100755' : '100644';
        lines.push(`${mode} ${oid}\t${path}\0`);
      }
      if (lines.length) await gitWithInput(cli, ['update-index', '-z', '--index-info'], lines.join(''), withIndex);
      const tree = (await gitWithInput(cli, ['write-tree'], '', withIndex)).trim();
      const date = `${Math.floor(request.at / 1000)} +0000`;
      const who = {
        GIT_AUTHOR_NAME: request.identity.name,
        GIT_AUTHOR_EMAIL: request.identity.email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: request.identity.name,
        GIT_COMMITTER_EMAIL: request.identity.email,
        GIT_COMMITTER_DATE: date,
      };
      // The message on stdin: it names paths, which must never be read as options.
      return (await gitWithInput(cli, ['commit-tree', tree, '-p', request.base, '-F', '-'], request.message, who)).trim();
    } finally {
      await rm(index, { force: true });
    }
  });
}

/**
 * Pushes `commit` to `branch` of the push remote, replacing what is there (the branch is Lanyard's:
 * a second capture on the same day carries all of the first's edits too). The branch is checked
 * against CAPTURE_BRANCH_PREFIX before git runs; anything else is refused.
 */
export async function pushCaptureBranch(cli: GitCli, remote: string, commit: string, branch: string): Promise<void> {
  const ref = captureRef(branch);
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new GitError('git_failed', `"${commit}" is not a commit sha; nothing was pushed`);
  try {
    await cli.run(['-C', cli.cacheDir, 'push', '--quiet', '--no-verify', '--end-of-options', remote, `+${commit}:${ref}`], FETCH_TIMEOUT_MS);
  } catch (error) {
    throw new GitError('push_failed', cli.redact(`pushing ${branch} to ${remote} failed: ${errorText(error)}`));
  }
}
