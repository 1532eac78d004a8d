// The relay's own copy of the configuration repository: a bare cache it fetches into with the git
// CLI. A job only names a commit; the relay fetches it itself and refuses any commit that is not on
// the allowed branch, so a compromised edge can at worst deploy another commit of that branch.
//
// git runs with argv arrays (never a shell), without the homeowner's global or system config, and
// with credentials passed through the environment, never on the command line or to disk.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CodedError } from '../coded-error.ts';
import type { LoadedConfig } from '../config.ts';

const execFileAsync = promisify(execFile);

export type GitErrorCode = 'not_on_branch' | 'unknown_commit' | 'fetch_failed' | 'git_failed';

export class GitError extends CodedError<GitErrorCode> {}

export interface GitSourceOptions {
  remote: string;
  branch: string;
  cacheDir: string;
  /** For https remotes: sent as an Authorization header, never stored. */
  token?: string;
  /** For ssh remotes: the deploy key. */
  deployKeyPath?: string;
}

export interface CommitInfo {
  sha: string;
  message: string;
  author: string;
  committedAt: number;
}

export interface CommitFile {
  path: string;
  sha256: string;
  mode: number;
  size: number;
  type: 'file' | 'symlink';
  linkTarget?: string;
}

interface TreeEntry {
  path: string;
  gitMode: string;
  oid: string;
}

export class GitSource {
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: GitSourceOptions) {}

  private get branchRef(): string {
    return `refs/remotes/origin/${this.options.branch}`;
  }

  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.options.cacheDir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: 'true',
      LC_ALL: 'C',
    };
    if (this.options.token) {
      const basic = Buffer.from(`x-access-token:${this.options.token}`).toString('base64');
      Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
    }
    if (this.options.deployKeyPath) {
      env.GIT_SSH_COMMAND = `ssh -i '${this.options.deployKeyPath.replaceAll("'", '')}' -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o BatchMode=yes`;
    }
    return env;
  }

  private redact(text: string): string {
    const token = this.options.token;
    let out = text;
    if (token) {
      out = out.replaceAll(token, '***');
      out = out.replaceAll(Buffer.from(`x-access-token:${token}`).toString('base64'), '***');
    }
    return out.replace(/\/\/[^/@\s]+@/g, '//***@');
  }

  private async git(args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync('git', ['-C', this.options.cacheDir, ...args], { env: this.env(), maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      throw new GitError('git_failed', this.redact(`git ${args[0]} failed: ${stderr.trim()}`));
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.lock.then(work, work);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async ensureCache(): Promise<void> {
    try {
      await stat(join(this.options.cacheDir, 'HEAD'));
    } catch {
      await mkdir(this.options.cacheDir, { recursive: true });
      await execFileAsync('git', ['init', '--quiet', '--bare', this.options.cacheDir], { env: this.env() });
    }
  }

  /** Fetches the allowed branch into the cache; returns its head. */
  async fetchBranch(): Promise<string> {
    return this.serial(async () => {
      await this.ensureCache();
      try {
        await execFileAsync('git', ['-C', this.options.cacheDir, 'fetch', '--quiet', '--force', '--prune', this.options.remote, `+refs/heads/${this.options.branch}:${this.branchRef}`], {
          env: this.env(),
          timeout: 300_000,
        });
      } catch (error) {
        const stderr = (error as { stderr?: string }).stderr ?? String(error);
        throw new GitError('fetch_failed', this.redact(`fetching ${this.options.branch} from ${this.options.remote} failed: ${stderr.trim() || String(error)}`));
      }
      return (await this.git(['rev-parse', this.branchRef])).trim();
    });
  }

  async resolveBranchHead(): Promise<string> {
    return this.fetchBranch();
  }

  /** Fetches, then checks that `sha` exists and is on the allowed branch. */
  async fetchCommit(sha: string): Promise<CommitInfo> {
    if (!/^[0-9a-f]{40}$/.test(sha)) throw new GitError('unknown_commit', `"${sha}" is not a full commit sha`);
    await this.fetchBranch();
    try {
      await this.git(['cat-file', '-e', `${sha}^{commit}`]);
    } catch {
      throw new GitError('unknown_commit', `commit ${sha.slice(0, 7)} is not in ${this.options.remote}: was it pushed, or force-pushed away?`);
    }
    try {
      await this.git(['merge-base', '--is-ancestor', sha, this.branchRef]);
    } catch {
      throw new GitError('not_on_branch', `commit ${sha.slice(0, 7)} is not on branch ${this.options.branch} of ${this.redact(this.options.remote)}; Lanyard only deploys commits of the allowed branch`);
    }
    const [author = '', committed = '0', ...message] = (await this.git(['log', '-1', '--format=%an%x00%ct%x00%B', sha])).split('\0');
    return { sha, author, committedAt: Number(committed) * 1000, message: message.join('\0').trim() };
  }

  private async tree(sha: string): Promise<TreeEntry[]> {
    const out = await this.git(['ls-tree', '-r', '-z', '--full-tree', sha]);
    return out
      .split('\0')
      .filter(Boolean)
      .map((record) => {
        const tab = record.indexOf('\t');
        const [gitMode, , oid] = record.slice(0, tab).split(' ');
        return { gitMode: gitMode!, oid: oid!, path: record.slice(tab + 1) };
      });
  }

  /** Streams the contents of many blobs through one `git cat-file --batch`. */
  private readBlobs(oids: string[], onBlob: (oid: string, content: Buffer) => void | Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('git', ['-C', this.options.cacheDir, 'cat-file', '--batch'], { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] });
      let pending: Buffer = Buffer.alloc(0);
      let stderr = '';
      let chain = Promise.resolve();
      child.stdout.on('data', (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        for (;;) {
          const newline = pending.indexOf(10);
          if (newline < 0) return;
          const header = pending.subarray(0, newline).toString('utf8');
          const [oid, type, sizeText] = header.split(' ');
          if (type === 'missing') {
            reject(new GitError('git_failed', `blob ${oid} is missing from the cache`));
            child.kill();
            return;
          }
          const size = Number(sizeText);
          if (pending.length < newline + 1 + size + 1) return;
          const content = Buffer.from(pending.subarray(newline + 1, newline + 1 + size));
          pending = pending.subarray(newline + 1 + size + 1);
          chain = chain.then(() => onBlob(oid!, content));
        }
      });
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new GitError('git_failed', `git cat-file failed: ${stderr.trim()}`));
        chain.then(resolve, reject);
      });
      child.stdin.end(oids.map((o) => `${o}\n`).join(''));
    });
  }

  /**
   * Every file of the commit (under `subfolder`, made relative to it) with its SHA-256 — the same
   * hash the host side computes with sha256sum — its mode, size, and for symlinks the target.
   * Submodules cannot be deployed and are listed in `skipped`.
   */
  async listCommitFiles(sha: string, subfolder?: string): Promise<{ files: CommitFile[]; skipped: string[] }> {
    const prefix = subfolder ? `${subfolder.replace(/^\/+|\/+$/g, '')}/` : '';
    const entries = (await this.tree(sha)).filter((e) => e.path.startsWith(prefix));
    const skipped = entries.filter((e) => e.gitMode === '160000').map((e) => e.path.slice(prefix.length));
    const blobs = entries.filter((e) => e.gitMode !== '160000');
    const hashes = new Map<string, { sha256: string; size: number; text: string | null }>();
    const unique = [...new Set(blobs.map((b) => b.oid))];
    const linkOids = new Set(blobs.filter((b) => b.gitMode === '120000').map((b) => b.oid));
    await this.readBlobs(unique, (oid, content) => {
      hashes.set(oid, { sha256: createHash('sha256').update(content).digest('hex'), size: content.length, text: linkOids.has(oid) ? content.toString('utf8') : null });
    });
    const files = blobs.map((b): CommitFile => {
      const h = hashes.get(b.oid)!;
      const path = b.path.slice(prefix.length);
      if (b.gitMode === '120000') return { path, type: 'symlink', mode: 0o777, size: h.size, sha256: h.sha256, linkTarget: h.text ?? '' };
      return { path, type: 'file', mode: b.gitMode === '100755' ? 0o755 : 0o644, size: h.size, sha256: h.sha256 };
    });
    return { files, skipped };
  }

  /** Writes the named files of the commit (paths from the repository root) into `destDir`. */
  async exportCommitFiles(sha: string, paths: string[], destDir: string): Promise<void> {
    const wanted = new Set(paths);
    const entries = (await this.tree(sha)).filter((e) => wanted.has(e.path));
    const missing = paths.filter((p) => !entries.some((e) => e.path === p));
    if (missing.length) throw new GitError('git_failed', `commit ${sha.slice(0, 7)} has no ${missing.slice(0, 5).join(', ')}`);
    const byOid = new Map<string, TreeEntry[]>();
    for (const e of entries) byOid.set(e.oid, [...(byOid.get(e.oid) ?? []), e]);
    await this.readBlobs([...byOid.keys()], async (oid, content) => {
      for (const e of byOid.get(oid) ?? []) {
        const target = join(destDir, e.path);
        await mkdir(dirname(target), { recursive: true });
        if (e.gitMode === '120000') await symlink(content.toString('utf8'), target);
        else {
          await writeFile(target, content);
          await chmod(target, e.gitMode === '100755' ? 0o755 : 0o644);
        }
      }
    });
  }

  async readCommitFile(sha: string, path: string): Promise<Buffer | null> {
    const entry = (await this.tree(sha)).find((e) => e.path === path && e.gitMode !== '160000' && e.gitMode !== '120000');
    if (!entry) return null;
    let content: Buffer | null = null;
    await this.readBlobs([entry.oid], (_oid, c) => {
      content = c;
    });
    return content;
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
