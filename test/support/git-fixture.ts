// A configuration repository for tests of the relay's git source: a temporary bare repository
// (the "remote", reached by its path) and a work clone to commit and push from. Every git call is
// cut off from the machine's git config and from GIT_* variables of whoever runs the tests, and
// names its author on the command line, so results never depend on the developer's setup.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a path holds in a commit: text or bytes, an executable, a symlink, or nothing (deleted). */
export type FixtureFile = string | Buffer | { content: string | Buffer; executable: true } | { symlink: string } | null;

export interface Author {
  name: string;
  email: string;
}

export const DEFAULT_AUTHOR: Author = { name: 'Ada Homeowner', email: 'ada@example.com' };

export interface CommitOptions {
  author?: Author;
  /** Applied to author and committer date, e.g. '2024-05-01T12:00:00Z'. */
  date?: string;
}

export interface GitFixture {
  /** Temporary folder holding everything below; `dispose` removes it. */
  dir: string;
  /** The bare repository: pass it as the relay's `remote`. */
  bare: string;
  work: string;
  /** Writes files (null deletes), commits everything on the current branch; returns the sha. */
  commit(files: Record<string, FixtureFile>, message: string, options?: CommitOptions): Promise<string>;
  /** Pushes the current HEAD to `branch` of the bare repository. */
  push(branch?: string, options?: { force?: boolean }): Promise<void>;
  /** commit + push to main. */
  commitAndPush(files: Record<string, FixtureFile>, message: string, options?: CommitOptions): Promise<string>;
  /** A commit on a new branch forked from main's head, pushed; the work clone returns to main. */
  commitOnOtherBranch(branch: string, files: Record<string, FixtureFile>, message: string): Promise<string>;
  /**
   * Rewrites main: resets it to `onto` (default: the parent of its head), commits `files` and
   * force-pushes, so the old head is no longer on main. Returns the new head.
   */
  forcePushMain(files: Record<string, FixtureFile>, message: string, onto?: string): Promise<string>;
  /** Records a submodule (gitlink) at `path` pointing at `sha`, without fetching anything. */
  addSubmoduleEntry(path: string, sha: string): Promise<void>;
  git(...args: string[]): Promise<string>;
  dispose(): Promise<void>;
}

/** The environment for fixture git calls: no GIT_* of the caller, no system or global config. */
export function isolatedGitEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('GIT_')) env[name] = value;
  return { ...env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
}

export async function createGitFixture(): Promise<GitFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-git-'));
  const bare = join(dir, 'ha-config.git');
  const work = join(dir, 'work');
  const env = isolatedGitEnv(dir);

  async function gitIn(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
    const author = DEFAULT_AUTHOR;
    const { stdout } = await run('git', ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, '-c', 'init.defaultBranch=main', ...args], {
      cwd,
      env: { ...env, ...extraEnv },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim();
  }
  const git = (...args: string[]): Promise<string> => gitIn(work, args);

  await gitIn(dir, ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await gitIn(dir, ['init', '--quiet', '--initial-branch=main', work]);
  await git('remote', 'add', 'origin', bare);

  async function writeFiles(files: Record<string, FixtureFile>): Promise<string[]> {
    const executables: string[] = [];
    for (const [path, spec] of Object.entries(files)) {
      const target = join(work, path);
      await rm(target, { force: true, recursive: true });
      if (spec === null) continue;
      await mkdir(dirname(target), { recursive: true });
      if (typeof spec === 'string' || Buffer.isBuffer(spec)) await writeFile(target, spec);
      else if ('symlink' in spec) await symlink(spec.symlink, target);
      else {
        await writeFile(target, spec.content);
        await chmod(target, 0o755);
        executables.push(path);
      }
    }
    return executables;
  }

  async function commit(files: Record<string, FixtureFile>, message: string, options: CommitOptions = {}): Promise<string> {
    const executables = await writeFiles(files);
    await git('add', '--all');
    // Said explicitly rather than trusting core.fileMode of the temp folder's file system.
    for (const path of executables) await git('update-index', '--chmod=+x', '--', path);
    const author = options.author ?? DEFAULT_AUTHOR;
    const dates: NodeJS.ProcessEnv = options.date ? { GIT_AUTHOR_DATE: options.date, GIT_COMMITTER_DATE: options.date } : {};
    await gitIn(work, ['commit', '--quiet', '--allow-empty', '--no-verify', '--author', `${author.name} <${author.email}>`, '-m', message], dates);
    return git('rev-parse', 'HEAD');
  }

  async function push(branch = 'main', options: { force?: boolean } = {}): Promise<void> {
    await git('push', '--quiet', ...(options.force ? ['--force'] : []), 'origin', `HEAD:refs/heads/${branch}`);
  }

  return {
    dir,
    bare,
    work,
    commit,
    push,
    git,
    async commitAndPush(files, message, options) {
      const sha = await commit(files, message, options);
      await push('main');
      return sha;
    },
    async commitOnOtherBranch(branch, files, message) {
      await git('checkout', '--quiet', '-b', branch, 'main');
      try {
        const sha = await commit(files, message);
        await push(branch);
        return sha;
      } finally {
        await git('checkout', '--quiet', 'main');
      }
    },
    async forcePushMain(files, message, onto) {
      await git('reset', '--quiet', '--hard', onto ?? 'HEAD~1');
      const sha = await commit(files, message);
      await push('main', { force: true });
      return sha;
    },
    async addSubmoduleEntry(path, sha) {
      // An empty folder is how git sees an unpopulated submodule; without it `add --all` would
      // stage the gitlink's deletion.
      await mkdir(join(work, path), { recursive: true });
      await git('update-index', '--add', '--cacheinfo', `160000,${sha},${path}`);
    },
    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
