// The relay's own copy of the configuration repository: a bare cache it fetches into with the git
// CLI. A job only names a commit; the relay fetches it itself and refuses any commit that is not on
// the allowed branch, so a compromised edge can at worst deploy another commit of that branch.
//
// git runs through git-cli.ts: argv arrays in an environment built from scratch, the token never
// in argv, on disk or in an error message. Reading objects is git-objects.ts; handing files of a
// commit on (to a folder, or as a tar stream) is commit-export.ts.
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { shortSha } from '../../shared/commit.ts';
import type { LoadedConfig } from '../config.ts';
import { archiveCommitFiles, exportCommitFiles } from './commit-export.ts';
import { FETCH_TIMEOUT_MS, GitCli, errorText, withCacheLock, type GitCliOptions } from './git-cli.ts';
import { GitError } from './git-error.ts';
import { EXECUTABLE, GITLINK, SYMLINK, listTree, normaliseFolder, streamBlobs } from './git-objects.ts';
import { fetchBranchHeads, onAnyBranch, verifyTaggedCommit } from './git-tag.ts';

export interface GitSourceOptions extends GitCliOptions {
  branch: string;
  /** Release branches a tag's commit may be on besides `branch` (issue 18, `git.tagBranches`). */
  tagBranches?: string[];
}

export interface CommitInfo {
  sha: string;
  /** The full commit message, trailing whitespace trimmed. */
  message: string;
  /** The author's name. */
  author: string;
  /** Committer date, milliseconds since the epoch. */
  committedAt: number;
}

export interface CommitFile {
  /** Relative to the repository root, or to the subfolder when one was asked for. */
  path: string;
  /** SHA-256 of the content (of the target text for a symlink), as `sha256sum` prints it. */
  sha256: string;
  /** 0o644 or 0o755 for files; 0o777 for symlinks, as the host's hashing reports them. */
  mode: number;
  /** Bytes of content (of the target text for a symlink). */
  size: number;
  type: 'file' | 'symlink';
  linkTarget?: string;
}

export interface CommitListing {
  files: CommitFile[];
  /** Submodules: a gitlink has no content to deploy. Paths relative like `files`. */
  skipped: string[];
}

const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export class GitSource {
  /** SHA-256, size (and a symlink's target) of the blobs of the last listing, by blob id. */
  private blobHashes = new Map<string, { sha256: string; size: number; text?: string }>();
  /** The listing running now, if any: the next one starts after it. */
  private listings: Promise<unknown> = Promise.resolve();
  private readonly cli: GitCli;
  constructor(private readonly options: GitSourceOptions) {
    this.cli = new GitCli(options);
  }

  /** The relay's git cache (a bare repository): a capture commits into it with plumbing. */
  get cacheDir(): string {
    return this.options.cacheDir;
  }

  private get branchRef(): string {
    return `refs/remotes/origin/${this.options.branch}`;
  }

  private async ensureCache(): Promise<void> {
    try {
      await stat(join(this.options.cacheDir, 'HEAD'));
    } catch {
      await mkdir(this.options.cacheDir, { recursive: true });
      try {
        await this.cli.run(['init', '--quiet', '--bare', this.options.cacheDir]);
      } catch (error) {
        throw new GitError('git_failed', `could not create the git cache in ${this.options.cacheDir}: ${errorText(error)}; check that the relay can write to its stateDir`);
      }
    }
  }

  private async fetchFromRemote(refspec: string): Promise<void> {
    // --end-of-options: a remote that begins with "-" is a path, never an option of git fetch.
    await this.cli.run(['-C', this.options.cacheDir, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', this.options.remote, refspec], FETCH_TIMEOUT_MS);
  }

  private fetchBranchUnlocked = async (): Promise<string> => {
    const { branch, remote } = this.options;
    await this.ensureCache();
    if (branch.startsWith('-') || !(await this.cli.test(['check-ref-format', `refs/heads/${branch}`]))) {
      throw new GitError('bad_branch', `"${branch}" is not a valid branch name; check git.branch in the relay config`);
    }
    try {
      await this.fetchFromRemote(`+refs/heads/${branch}:${this.branchRef}`);
    } catch (error) {
      throw new GitError('fetch_failed', this.cli.redact(`fetching branch ${branch} from ${remote} failed: ${errorText(error)}`));
    }
    return (await this.cli.git(['rev-parse', '--verify', '--end-of-options', `${this.branchRef}^{commit}`])).toString('utf8').trim();
  };

  /** Fetches the allowed branch into the cache; returns its head. */
  fetchBranch(): Promise<string> {
    return withCacheLock(this.options.cacheDir, this.fetchBranchUnlocked);
  }

  /** The allowed branch's head as last fetched into the cache, without going to the remote; null when never fetched. */
  async cachedBranchHead(): Promise<string | null> {
    const out = await this.cli.git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${this.branchRef}^{commit}`]).catch(() => null);
    const sha = out?.toString('utf8').trim() ?? '';
    return FULL_SHA.test(sha) ? sha : null;
  }

  /** The allowed branch's head on the remote, fetched now (for `relay doctor` and "deploy the head"). */
  resolveBranchHead(): Promise<string> {
    return this.fetchBranch();
  }

  /**
   * Fetches, then checks that `sha` exists and is reachable from the allowed branch's head. A
   * commit the branch does not contain is refused even when the cache or the remote has it.
   */
  async fetchCommit(sha: string): Promise<CommitInfo> {
    const wanted = sha.trim().toLowerCase();
    if (!FULL_SHA.test(wanted)) throw new GitError('unknown_commit', `"${sha}" is not a full commit sha; give all 40 hex characters`);
    const remote = this.cli.redact(this.options.remote);
    await withCacheLock(this.options.cacheDir, async () => {
      await this.fetchBranchUnlocked();
      if (await this.cli.test(['merge-base', '--is-ancestor', wanted, this.branchRef])) return;
      // Not on the branch. Fetch it by sha where the server allows it, only so the refusal can
      // say which it is: a commit of another branch, or one that does not exist at all.
      if (!(await this.commitPresent(wanted))) await this.fetchFromRemote(wanted).catch(() => undefined);
      if (!(await this.commitPresent(wanted))) {
        throw new GitError('unknown_commit', `commit ${shortSha(wanted)} is not in ${remote}; was it pushed, or force-pushed away?`);
      }
      throw new GitError('not_on_branch', `commit ${shortSha(wanted)} is not on branch ${this.options.branch} of ${remote}; Lanyard only deploys commits of the allowed branch`);
    });
    return this.commitInfo(wanted);
  }

  /**
   * A release tag's job (issue 18): fetches the tag from the relay's own remote and checks it peels
   * to `sha`, a commit on `branch` or one of `tagBranches` (git-tag.ts); refused otherwise.
   */
  async fetchTaggedCommit(tag: string, sha: string): Promise<CommitInfo> {
    const wanted = sha.trim().toLowerCase();
    if (!FULL_SHA.test(wanted)) throw new GitError('unknown_commit', `"${sha}" is not a full commit sha; give all 40 hex characters`);
    const branches = [this.options.branch, ...(this.options.tagBranches ?? []).filter((b) => b !== this.options.branch)];
    await withCacheLock(this.options.cacheDir, async () => {
      await this.ensureCache();
      await verifyTaggedCommit(this.cli, { remote: this.options.remote, branches }, tag, wanted);
    });
    return this.commitInfo(wanted);
  }

  /**
   * The commit the host runs, as the relay's own manifest names it (the drift watch, captures): on
   * `branch`, or, when a release tag deployed it, on one of `tagBranches` (issue 18).
   */
  async fetchDeployedCommit(sha: string): Promise<CommitInfo> {
    try {
      return await this.fetchCommit(sha);
    } catch (error) {
      const releaseBranches = (this.options.tagBranches ?? []).filter((b) => b !== this.options.branch);
      if (!(error instanceof GitError) || error.code !== 'not_on_branch' || !releaseBranches.length) throw error;
      const wanted = sha.trim().toLowerCase();
      const onRelease = await withCacheLock(this.options.cacheDir, async () => onAnyBranch(this.cli, wanted, await fetchBranchHeads(this.cli, this.options.remote, releaseBranches)));
      if (!onRelease) throw error;
      return this.commitInfo(wanted);
    }
  }

  private async commitInfo(wanted: string): Promise<CommitInfo> {
    const out = (await this.cli.git(['show', '-s', '--no-show-signature', '--format=%an%x00%ct%x00%B', wanted])).toString('utf8');
    const [author = '', committed = '0', ...message] = out.split('\0');
    return { sha: wanted, author, committedAt: Number(committed) * 1000, message: message.join('\0').trimEnd() };
  }

  /**
   * A pull request's head, fetched from the relay's own remote (`refs/pull/<n>/head`, as GitHub
   * keeps it) into `refs/lanyard/pulls/<n>`, and checked to be the commit the edge named: a head
   * that moved on, or that is not there, is refused. Never from a URL the edge gives.
   */
  async fetchPullHead(pullNumber: number, sha: string): Promise<CommitInfo> {
    if (!Number.isSafeInteger(pullNumber) || pullNumber < 1) throw new GitError('unknown_commit', `"${pullNumber}" is not a pull request number`);
    const wanted = sha.trim().toLowerCase();
    if (!FULL_SHA.test(wanted)) throw new GitError('unknown_commit', `"${sha}" is not a full commit sha; give all 40 hex characters`);
    const local = `refs/lanyard/pulls/${pullNumber}`;
    const remote = this.cli.redact(this.options.remote);
    await withCacheLock(this.options.cacheDir, async () => {
      await this.ensureCache();
      try {
        await this.fetchFromRemote(`+refs/pull/${pullNumber}/head:${local}`);
      } catch (error) {
        throw new GitError('fetch_failed', this.cli.redact(`fetching pull request #${pullNumber} (refs/pull/${pullNumber}/head) from ${remote} failed: ${errorText(error)}`));
      }
    });
    const head = (await this.cli.git(['rev-parse', '--verify', '--end-of-options', `${local}^{commit}`])).toString('utf8').trim();
    if (head !== wanted) {
      throw new GitError('not_on_branch', `pull request #${pullNumber}'s head in ${remote} is ${shortSha(head)}, not ${shortSha(wanted)} as the edge said; a newer push will be planned on its own`);
    }
    const out = (await this.cli.git(['show', '-s', '--no-show-signature', '--format=%an%x00%ct%x00%B', wanted])).toString('utf8');
    const [author = '', committed = '0', ...message] = out.split('\0');
    return { sha: wanted, author, committedAt: Number(committed) * 1000, message: message.join('\0').trimEnd() };
  }

  private commitPresent(sha: string): Promise<boolean> {
    return this.cli.test(['cat-file', '-e', `${sha}^{commit}`]);
  }

  private async requireCommit(sha: string): Promise<string> {
    const wanted = sha.trim().toLowerCase();
    if (!FULL_SHA.test(wanted) || !(await this.commitPresent(wanted))) {
      throw new GitError('unknown_commit', `commit ${shortSha(sha)} is not in the relay's cache; fetch it first`);
    }
    return wanted;
  }

  /**
   * Every file of the commit (under `subfolder`, made relative to it) with its SHA-256 — the same
   * hash the host side computes with sha256sum — its mode, size, and for symlinks the target.
   * Submodules cannot be deployed and are listed in `skipped`.
   */
  listCommitFiles(sha: string, subfolder?: string): Promise<CommitListing> {
    // One at a time: a job's listing that comes while the start-up one hashes the whole tree waits
    // for it, and then hashes only the blobs it did not, instead of all of them a second time.
    const listing = this.listings.then(() => this.listCommitFilesNow(sha, subfolder));
    this.listings = listing.catch(() => undefined);
    return listing;
  }

  private async listCommitFilesNow(sha: string, subfolder?: string): Promise<CommitListing> {
    const commit = await this.requireCommit(sha);
    const folder = normaliseFolder(subfolder);
    const prefix = folder ? `${folder}/` : '';
    const entries = (await listTree(this.cli, commit, folder ? [prefix] : [])).filter((e) => e.path.startsWith(prefix));
    if (folder && !entries.length) {
      // An empty listing would plan the deletion of every deployed file; a typo must not do that.
      throw new GitError('not_in_commit', `commit ${shortSha(commit)} has no folder ${folder}/; check git.subfolder in the relay config`);
    }
    const skipped = entries.filter((e) => e.gitMode === GITLINK).map((e) => e.path.slice(prefix.length));
    const blobs = entries.filter((e) => e.gitMode !== GITLINK);
    const linkOids = new Set(blobs.filter((b) => b.gitMode === SYMLINK).map((b) => b.oid));
    // A blob's id names its content, so its SHA-256 never changes: only blobs the last listing did
    // not have are read and hashed (after a first deploy, the few a commit changed, not 100 MB).
    const contents = new Map<string, { sha256: string; size: number; text?: string }>();
    const unknown: string[] = [];
    for (const oid of new Set(blobs.map((b) => b.oid))) {
      const known = this.blobHashes.get(oid);
      if (known) contents.set(oid, known);
      else unknown.push(oid);
    }
    await streamBlobs(this.cli, unknown, (oid, size) => {
      const hash = createHash('sha256');
      const kept: Buffer[] = [];
      return {
        write(chunk) {
          hash.update(chunk);
          if (linkOids.has(oid)) kept.push(chunk);
        },
        end() {
          contents.set(oid, { sha256: hash.digest('hex'), size, ...(linkOids.has(oid) ? { text: Buffer.concat(kept).toString('utf8') } : {}) });
        },
      };
    });
    // Kept for this listing's blobs only, so the cache never outgrows one commit's tree.
    this.blobHashes = contents;
    const files = blobs.map((b): CommitFile => {
      const content = contents.get(b.oid)!;
      const path = b.path.slice(prefix.length);
      if (b.gitMode === SYMLINK) return { path, type: 'symlink', mode: 0o777, size: content.size, sha256: content.sha256, linkTarget: content.text ?? '' };
      return { path, type: 'file', mode: b.gitMode === EXECUTABLE ? 0o755 : 0o644, size: content.size, sha256: content.sha256 };
    });
    return { files, skipped };
  }

  /** Writes the named files of the commit into `destDir`, overwriting nothing (commit-export.ts). */
  async exportCommitFiles(sha: string, paths: string[], destDir: string): Promise<void> {
    return exportCommitFiles(this.cli, await this.requireCommit(sha), paths, destDir);
  }

  /** The named files of the commit as one tar stream git makes from its objects (commit-export.ts). */
  async archiveCommitFiles(sha: string, paths: string[], subfolder?: string): Promise<{ tar: Readable; finished: Promise<void>; stop: () => void }> {
    return archiveCommitFiles(this.cli, await this.requireCommit(sha), paths, subfolder);
  }

  /** A regular file's content at `sha`, or null when the commit has no regular file there. */
  async readCommitFile(sha: string, path: string): Promise<Buffer | null> {
    const commit = await this.requireCommit(sha);
    const wanted = normaliseFolder(path);
    if (!wanted) return null;
    const entry = (await listTree(this.cli, commit, [wanted])).find((e) => e.path === wanted);
    if (!entry || entry.gitMode === GITLINK || entry.gitMode === SYMLINK) return null;
    return this.cli.git(['cat-file', 'blob', entry.oid]);
  }
}

/** The relay's git source as its configuration describes it. */
export function gitSourceFor({ config, secrets }: LoadedConfig): GitSource {
  return new GitSource({
    remote: config.git.remote,
    branch: config.git.branch,
    tagBranches: config.git.tagBranches,
    cacheDir: join(config.stateDir, 'git-cache'),
    ...(secrets.gitToken ? { token: secrets.gitToken } : {}),
    ...(config.git.deployKeyPath ? { deployKeyPath: config.git.deployKeyPath } : {}),
  });
}
