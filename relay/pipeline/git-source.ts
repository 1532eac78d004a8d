// The relay's own copy of the configuration repository: a bare cache it fetches into with the git
// CLI. A job only names a commit; the relay fetches it itself and refuses any commit that is not on
// the allowed branch, so a compromised edge can at worst deploy another commit of that branch.
//
// git runs with argv arrays (never a shell) in an environment built from scratch: no system or
// global git config, no ~/.netrc, no GIT_* variables of the caller, no prompts. The token travels
// in the environment (GIT_CONFIG_*), not in argv where every local user could read it with `ps`,
// and it is never written to disk or into an error message.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, mkdir, open, rm, stat, symlink, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { shortSha } from '../../shared/commit.ts';
import { CodedError } from '../coded-error.ts';
import type { LoadedConfig } from '../config.ts';

export type GitErrorCode =
  /** The commit exists but the allowed branch does not contain it. */
  | 'not_on_branch'
  /** Neither the cache nor the remote has the commit. */
  | 'unknown_commit'
  /** The remote could not be reached or refused us; the message carries git's words. */
  | 'fetch_failed'
  /** `git.branch` is not something git accepts as a branch name. */
  | 'bad_branch'
  /** A path (or the subfolder) asked for is not in the commit. */
  | 'not_in_commit'
  /** Any other git failure in the local cache. */
  | 'git_failed';

export class GitError extends CodedError<GitErrorCode> {}

export interface GitSourceOptions {
  /** Any git URL: https://…, git@host:owner/repo.git, ssh://…, or a local path. */
  remote: string;
  branch: string;
  cacheDir: string;
  /** For http(s) remotes: sent as `Authorization: Basic base64("x-access-token:" + token)`. */
  token?: string;
  /** For ssh remotes: the deploy key. */
  deployKeyPath?: string;
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

interface TreeEntry {
  path: string;
  gitMode: string;
  oid: string;
}

/** Receives one blob's content in chunks, in order; `end` runs after the last chunk. */
interface BlobSink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

const GITLINK = '160000';
const SYMLINK = '120000';
const EXECUTABLE = '100755';
const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const FETCH_TIMEOUT_MS = 300_000;

// What the relay's environment may still say about the network: proxies and CA bundles are the
// machine's business, not git config, and a relay behind a proxy needs them.
const PASSED_THROUGH = ['PATH', 'TMPDIR', 'SYSTEMROOT', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];

// Fetches into one cache must not overlap (two fetches race for the same ref lock). Keyed by
// folder, not by instance: the daemon and `relay doctor` each build their own GitSource.
const cacheLocks = new Map<string, Promise<unknown>>();

function withCacheLock<T>(cacheDir: string, work: () => Promise<T>): Promise<T> {
  const key = resolve(cacheDir);
  const previous = cacheLocks.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const tail = next.catch(() => undefined);
  cacheLocks.set(key, tail);
  void tail.then(() => {
    if (cacheLocks.get(key) === tail) cacheLocks.delete(key);
  });
  return next;
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}


/** `config/`, `/config`, `./config//` → `config`; `''` and `.` → `''` (the whole repository). */
function normaliseFolder(folder: string | undefined): string {
  return (folder ?? '')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

function errorText(error: unknown): string {
  const e = error as { stderr?: string | Buffer; message?: string; killed?: boolean; signal?: string | null };
  if (e.killed || e.signal === 'SIGTERM') return `no answer within ${FETCH_TIMEOUT_MS / 60_000} minutes`;
  const stderr = e.stderr === undefined ? '' : e.stderr.toString().trim();
  return stderr || e.message || String(error);
}

interface RunResult {
  stdout: Buffer;
  stderr: string;
}

export class GitSource {
  /** SHA-256, size (and a symlink's target) of the blobs of the last listing, by blob id. */
  private blobHashes = new Map<string, { sha256: string; size: number; text?: string }>();
  constructor(private readonly options: GitSourceOptions) {}

  private get branchRef(): string {
    return `refs/remotes/origin/${this.options.branch}`;
  }

  private get remoteIsHttp(): boolean {
    return /^https?:\/\//i.test(this.options.remote);
  }

  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const name of PASSED_THROUGH) if (process.env[name] !== undefined) env[name] = process.env[name];
    Object.assign(env, {
      // HOME is the cache: no ~/.gitconfig, ~/.config/git or ~/.netrc of the homeowner applies.
      // (ssh looks up ~/.ssh through the password database, so known_hosts still works.)
      HOME: this.options.cacheDir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      // ext:: and other helpers could run arbitrary commands; the remote is one of these.
      GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh',
      GIT_LITERAL_PATHSPECS: '1',
      GIT_NO_REPLACE_OBJECTS: '1',
      // A stalled download fails instead of holding the deploy until the timeout.
      GIT_HTTP_LOW_SPEED_LIMIT: '1000',
      GIT_HTTP_LOW_SPEED_TIME: '60',
      LC_ALL: 'C',
    });
    const config: [string, string][] = [
      // Auto-gc after a fetch would otherwise detach and keep writing to the cache afterwards.
      ['gc.autoDetach', 'false'],
      ['credential.helper', ''],
    ];
    if (this.options.token && this.remoteIsHttp) {
      const basic = Buffer.from(`x-access-token:${this.options.token}`).toString('base64');
      config.push(['http.extraHeader', `Authorization: Basic ${basic}`]);
    }
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
    // BatchMode: a missing key or unknown host fails at once rather than waiting for a password.
    const ssh = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=30'];
    if (this.options.deployKeyPath) {
      ssh.push('-i', shellQuote(this.options.deployKeyPath), '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes');
    } else if (process.env.SSH_AUTH_SOCK) {
      env.SSH_AUTH_SOCK = process.env.SSH_AUTH_SOCK;
    }
    env.GIT_SSH_COMMAND = ssh.join(' ');
    return env;
  }

  /** Removes the token (plain and as sent in the header) and any password in a URL. */
  private redact(text: string): string {
    let out = text;
    const token = this.options.token;
    if (token) {
      out = out.replaceAll(token, '***');
      out = out.replaceAll(Buffer.from(`x-access-token:${token}`).toString('base64'), '***');
      out = out.replaceAll(encodeURIComponent(token), '***');
    }
    return out.replace(/\/\/[^/@\s]+@/g, '//***@');
  }

  private run(args: string[], timeout = 0): Promise<RunResult> {
    return new Promise((resolvePromise, reject) => {
      execFile('git', args, { env: this.env(), encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024, timeout }, (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr: stderr.toString('utf8') }));
        else resolvePromise({ stdout, stderr: stderr.toString('utf8') });
      });
    });
  }

  /** git in the cache; failures become `git_failed` with git's own words. */
  private async git(args: string[]): Promise<Buffer> {
    try {
      return (await this.run(['-C', this.options.cacheDir, ...args])).stdout;
    } catch (error) {
      throw new GitError('git_failed', this.redact(`git ${args[0]} failed in the relay's cache ${this.options.cacheDir}: ${errorText(error)}`));
    }
  }

  /** Exit status 0 → true, 1 → false; anything else is a failure of git itself. */
  private async test(args: string[]): Promise<boolean> {
    try {
      await this.run(['-C', this.options.cacheDir, ...args]);
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 1 || (error as { code?: unknown }).code === 128) return false;
      throw new GitError('git_failed', this.redact(`git ${args[0]} failed in the relay's cache: ${errorText(error)}`));
    }
  }

  private async ensureCache(): Promise<void> {
    try {
      await stat(join(this.options.cacheDir, 'HEAD'));
    } catch {
      await mkdir(this.options.cacheDir, { recursive: true });
      try {
        await this.run(['init', '--quiet', '--bare', this.options.cacheDir]);
      } catch (error) {
        throw new GitError('git_failed', `could not create the git cache in ${this.options.cacheDir}: ${errorText(error)}; check that the relay can write to its stateDir`);
      }
    }
  }

  private async fetchFromRemote(refspec: string): Promise<void> {
    // --end-of-options: a remote that begins with "-" is a path, never an option of git fetch.
    await this.run(['-C', this.options.cacheDir, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', this.options.remote, refspec], FETCH_TIMEOUT_MS);
  }

  private fetchBranchUnlocked = async (): Promise<string> => {
    const { branch, remote } = this.options;
    await this.ensureCache();
    if (branch.startsWith('-') || !(await this.test(['check-ref-format', `refs/heads/${branch}`]))) {
      throw new GitError('bad_branch', `"${branch}" is not a valid branch name; check git.branch in the relay config`);
    }
    try {
      await this.fetchFromRemote(`+refs/heads/${branch}:${this.branchRef}`);
    } catch (error) {
      throw new GitError('fetch_failed', this.redact(`fetching branch ${branch} from ${remote} failed: ${errorText(error)}`));
    }
    return (await this.git(['rev-parse', '--verify', '--end-of-options', `${this.branchRef}^{commit}`])).toString('utf8').trim();
  };

  /** Fetches the allowed branch into the cache; returns its head. */
  fetchBranch(): Promise<string> {
    return withCacheLock(this.options.cacheDir, this.fetchBranchUnlocked);
  }

  /** The allowed branch's head as last fetched into the cache, without going to the remote; null when never fetched. */
  async cachedBranchHead(): Promise<string | null> {
    const out = await this.git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${this.branchRef}^{commit}`]).catch(() => null);
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
    const remote = this.redact(this.options.remote);
    await withCacheLock(this.options.cacheDir, async () => {
      await this.fetchBranchUnlocked();
      if (await this.test(['merge-base', '--is-ancestor', wanted, this.branchRef])) return;
      // Not on the branch. Fetch it by sha where the server allows it, only so the refusal can
      // say which it is: a commit of another branch, or one that does not exist at all.
      if (!(await this.commitPresent(wanted))) await this.fetchFromRemote(wanted).catch(() => undefined);
      if (!(await this.commitPresent(wanted))) {
        throw new GitError('unknown_commit', `commit ${shortSha(wanted)} is not in ${remote}; was it pushed, or force-pushed away?`);
      }
      throw new GitError('not_on_branch', `commit ${shortSha(wanted)} is not on branch ${this.options.branch} of ${remote}; Lanyard only deploys commits of the allowed branch`);
    });
    const out = (await this.git(['show', '-s', '--no-show-signature', '--format=%an%x00%ct%x00%B', wanted])).toString('utf8');
    const [author = '', committed = '0', ...message] = out.split('\0');
    return { sha: wanted, author, committedAt: Number(committed) * 1000, message: message.join('\0').trimEnd() };
  }

  private commitPresent(sha: string): Promise<boolean> {
    return this.test(['cat-file', '-e', `${sha}^{commit}`]);
  }

  private async requireCommit(sha: string): Promise<string> {
    const wanted = sha.trim().toLowerCase();
    if (!FULL_SHA.test(wanted) || !(await this.commitPresent(wanted))) {
      throw new GitError('unknown_commit', `commit ${shortSha(sha)} is not in the relay's cache; fetch it first`);
    }
    return wanted;
  }

  /** Every entry of the commit's tree, recursively, in one `git ls-tree`. */
  private async tree(sha: string, paths: string[] = []): Promise<TreeEntry[]> {
    const out = (await this.git(['ls-tree', '-r', '-z', '--full-tree', sha, '--', ...paths])).toString('utf8');
    const entries: TreeEntry[] = [];
    for (const record of out.split('\0')) {
      if (!record) continue;
      // "<mode> SP <type> SP <oid> TAB <path>"; with -z the path is not quoted.
      const tab = record.indexOf('\t');
      const [gitMode, , oid] = record.slice(0, tab).split(' ');
      entries.push({ gitMode: gitMode!, oid: oid!, path: record.slice(tab + 1) });
    }
    return entries;
  }

  /**
   * Streams many blobs through one `git cat-file --batch`, each to the sink `open` returns, with
   * back-pressure: the next chunk is read only after the sink took the previous one, so a large
   * blob is never held in memory whole unless the sink keeps it.
   */
  private async streamBlobs(oids: string[], open: (oid: string, size: number) => BlobSink | Promise<BlobSink>): Promise<void> {
    if (!oids.length) return;
    const child = spawn('git', ['-C', this.options.cacheDir, 'cat-file', '--batch'], { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; error?: Error }>((done) => {
      child.once('error', (error) => done({ code: null, error }));
      child.once('close', (code) => done({ code }));
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // An early exit of git closes its stdin; the exit status below reports that, not EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(oids.map((oid) => `${oid}\n`).join(''));

    let received = 0;
    let header: Buffer[] = [];
    let sink: BlobSink | null = null;
    let remaining = 0;
    let separator = false;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        let at = 0;
        while (at < chunk.length) {
          if (sink) {
            const take = Math.min(remaining, chunk.length - at);
            await sink.write(chunk.subarray(at, at + take));
            at += take;
            remaining -= take;
            if (remaining === 0) {
              await sink.end();
              sink = null;
              separator = true;
            }
            continue;
          }
          if (separator) {
            if (chunk[at] !== 0x0a) throw new GitError('git_failed', 'git cat-file answered out of step; the cache may be damaged');
            at += 1;
            separator = false;
            continue;
          }
          const newline = chunk.indexOf(0x0a, at);
          if (newline < 0) {
            header.push(chunk.subarray(at));
            break;
          }
          header.push(chunk.subarray(at, newline));
          at = newline + 1;
          const line = Buffer.concat(header).toString('utf8');
          header = [];
          const [oid = '', type = '', sizeText = ''] = line.split(' ');
          const expected = oids[received];
          if (type === 'missing' || type === 'ambiguous') {
            throw new GitError('git_failed', `object ${oid} is ${type} in the relay's cache; delete ${this.options.cacheDir} so the next fetch rebuilds it`);
          }
          if (oid !== expected || type !== 'blob') throw new GitError('git_failed', `git cat-file answered ${line} where blob ${expected} was asked for`);
          received += 1;
          remaining = Number(sizeText);
          sink = await open(oid, remaining);
          if (remaining === 0) {
            await sink.end();
            sink = null;
            separator = true;
          }
        }
      }
    } catch (error) {
      child.kill();
      await exited;
      throw error;
    }
    const { code, error } = await exited;
    if (error) throw new GitError('git_failed', `could not run git: ${error.message}; is git installed and on PATH?`);
    if (code !== 0 || received !== oids.length || sink) {
      throw new GitError('git_failed', `git cat-file stopped after ${received} of ${oids.length} objects${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    }
  }

  /**
   * Every file of the commit (under `subfolder`, made relative to it) with its SHA-256 — the same
   * hash the host side computes with sha256sum — its mode, size, and for symlinks the target.
   * Submodules cannot be deployed and are listed in `skipped`.
   */
  async listCommitFiles(sha: string, subfolder?: string): Promise<CommitListing> {
    const commit = await this.requireCommit(sha);
    const folder = normaliseFolder(subfolder);
    const prefix = folder ? `${folder}/` : '';
    const entries = (await this.tree(commit, folder ? [prefix] : [])).filter((e) => e.path.startsWith(prefix));
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
    await this.streamBlobs(unknown, (oid, size) => {
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

  /**
   * Writes the named files of the commit (paths from the repository root) into `destDir` under the
   * same relative paths: regular files with their mode, symlinks as symlinks. Nothing already in
   * `destDir` is overwritten.
   */
  async exportCommitFiles(sha: string, paths: string[], destDir: string): Promise<void> {
    const commit = await this.requireCommit(sha);
    const root = resolve(destDir);
    const wanted = new Set(paths);
    for (const path of wanted) {
      const target = resolve(root, path);
      if (isAbsolute(path) || path.split('/').some((s) => s === '' || s === '.' || s === '..') || !target.startsWith(root + sep)) {
        throw new GitError('not_in_commit', `"${path}" is not a plain relative path; refusing to write it outside ${destDir}`);
      }
    }
    const entries = (await this.tree(commit)).filter((e) => wanted.has(e.path));
    const found = new Set(entries.map((e) => e.path));
    const missing = [...wanted].filter((p) => !found.has(p));
    const submodules = entries.filter((e) => e.gitMode === GITLINK).map((e) => e.path);
    if (missing.length || submodules.length) {
      const named = [...missing, ...submodules];
      throw new GitError(
        'not_in_commit',
        `commit ${shortSha(commit)} has no file ${named.slice(0, 5).join(', ')}${named.length > 5 ? ` and ${named.length - 5} more` : ''}; the plan and the commit disagree, plan again`,
      );
    }
    const byOid = new Map<string, TreeEntry[]>();
    for (const e of entries) byOid.set(e.oid, [...(byOid.get(e.oid) ?? []), e]);
    const made = new Set<string>();
    const parentOf = async (path: string): Promise<string> => {
      const target = join(root, path);
      const parent = dirname(target);
      if (!made.has(parent)) {
        await mkdir(parent, { recursive: true });
        made.add(parent);
      }
      return target;
    };

    await this.streamBlobs([...byOid.keys()], async (oid) => {
      const users = byOid.get(oid)!;
      const files = users.filter((e) => e.gitMode !== SYMLINK);
      const links = users.filter((e) => e.gitMode === SYMLINK);
      const first = files[0];
      // The first regular path gets the bytes as they stream; others with the same content are
      // copies of it. Symlink targets are short and kept in memory.
      let handle: FileHandle | null = first ? await open(await parentOf(first.path), fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600) : null;
      const kept: Buffer[] = [];
      return {
        async write(chunk) {
          if (handle) await handle.write(chunk);
          if (links.length) kept.push(chunk);
        },
        async end() {
          if (handle && first) {
            await handle.close();
            handle = null;
            const firstPath = join(root, first.path);
            await chmod(firstPath, first.gitMode === EXECUTABLE ? 0o755 : 0o644);
            for (const other of files.slice(1)) {
              const target = await parentOf(other.path);
              await copyFile(firstPath, target, fsConstants.COPYFILE_EXCL);
              await chmod(target, other.gitMode === EXECUTABLE ? 0o755 : 0o644);
            }
          }
          const linkTarget = Buffer.concat(kept).toString('utf8');
          for (const link of links) await symlink(linkTarget, await parentOf(link.path));
        },
      };
    });
  }

  /**
   * The named files of the commit (paths relative to `subfolder`, or to the repository root) as one
   * tar stream made by git from its own objects: regular files 0644 or 0755, symlinks as symlinks,
   * under the same relative paths. Nothing is written to the relay's disk first, unlike
   * exportCommitFiles followed by tar, which wrote (and read back) a first deploy's 100 MB. The
   * files are put in a tree of their own (a scratch index, write-tree), so any number of paths
   * travel on stdin, never as arguments. `finished` rejects when git failed; `stop` ends git early.
   */
  async archiveCommitFiles(sha: string, paths: string[], subfolder?: string): Promise<{ tar: Readable; finished: Promise<void>; stop: () => void }> {
    const commit = await this.requireCommit(sha);
    const folder = normaliseFolder(subfolder);
    const prefix = folder ? `${folder}/` : '';
    const wanted = new Set(paths.map((p) => `${prefix}${p}`));
    const entries = (await this.tree(commit, folder ? [prefix] : [])).filter((e) => wanted.has(e.path));
    const found = new Set(entries.map((e) => e.path));
    const named = [...[...wanted].filter((p) => !found.has(p)), ...entries.filter((e) => e.gitMode === GITLINK).map((e) => e.path)];
    if (named.length) {
      throw new GitError(
        'not_in_commit',
        `commit ${shortSha(commit)} has no file ${named.slice(0, 5).join(', ')}${named.length > 5 ? ` and ${named.length - 5} more` : ''}; the plan and the commit disagree, plan again`,
      );
    }
    const index = join(this.options.cacheDir, `lanyard-upload-${process.pid}-${Date.now()}.index`);
    const env = { ...this.env(), GIT_INDEX_FILE: index };
    let tree: string;
    try {
      const info = entries.map((e) => `${e.gitMode} ${e.oid}\t${e.path.slice(prefix.length)}\0`).join('');
      await this.runWithInput(['-C', this.options.cacheDir, 'update-index', '-z', '--index-info'], info, env);
      tree = (await this.runWithInput(['-C', this.options.cacheDir, 'write-tree'], '', env)).trim();
    } catch (error) {
      throw new GitError('git_failed', this.redact(`could not gather the files to upload in the relay's cache ${this.options.cacheDir}: ${errorText(error)}`));
    } finally {
      await rm(index, { force: true });
    }
    // tar.umask 022: git's default (002) would make every file group-writable on the host, and
    // differ from the modes the plan compares with.
    const child = spawn('git', ['-C', this.options.cacheDir, '-c', 'tar.umask=022', 'archive', '--format=tar', tree], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const finished = new Promise<void>((resolvePromise, reject) => {
      child.once('error', (error) => reject(new GitError('git_failed', `could not run git: ${error.message}; is git installed and on PATH?`)));
      child.once('close', (code, signal) => {
        if (code === 0) resolvePromise();
        else reject(new GitError('git_failed', this.redact(`git archive failed in the relay's cache (${code ?? signal}): ${stderr.trim()}`)));
      });
    });
    const stop = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    return { tar: child.stdout, finished, stop };
  }

  private runWithInput(args: string[], input: string, env: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      const child = execFile('git', args, { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr }));
        else resolvePromise(stdout);
      });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    });
  }

  /** A regular file's content at `sha`, or null when the commit has no regular file there. */
  async readCommitFile(sha: string, path: string): Promise<Buffer | null> {
    const commit = await this.requireCommit(sha);
    const wanted = normaliseFolder(path);
    if (!wanted) return null;
    const entry = (await this.tree(commit, [wanted])).find((e) => e.path === wanted);
    if (!entry || entry.gitMode === GITLINK || entry.gitMode === SYMLINK) return null;
    return this.git(['cat-file', 'blob', entry.oid]);
  }
}

/** The relay's git source as its configuration describes it. */
export function gitSourceFor({ config, secrets }: LoadedConfig): GitSource {
  return new GitSource({
    remote: config.git.remote,
    branch: config.git.branch,
    cacheDir: join(config.stateDir, 'git-cache'),
    ...(secrets.gitToken ? { token: secrets.gitToken } : {}),
    ...(config.git.deployKeyPath ? { deployKeyPath: config.git.deployKeyPath } : {}),
  });
}
