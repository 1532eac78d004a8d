// Handing files of a commit on: written into a local folder, or as one tar stream git makes from
// its own objects. Both refuse, before anything is written, a path the commit does not hold.
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, mkdir, open, rm, symlink, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { shortSha } from '../../shared/commit.ts';
import { errorText, type GitCli } from './git-cli.ts';
import { GitError } from './git-error.ts';
import { EXECUTABLE, GITLINK, SYMLINK, listTree, normaliseFolder, streamBlobs, type TreeEntry } from './git-objects.ts';

/** Refuses when the plan named files (or submodules) the commit has no content for. */
function refuseAbsent(commit: string, named: string[]): void {
  if (!named.length) return;
  throw new GitError(
    'not_in_commit',
    `commit ${shortSha(commit)} has no file ${named.slice(0, 5).join(', ')}${named.length > 5 ? ` and ${named.length - 5} more` : ''}; the plan and the commit disagree, plan again`,
  );
}

/**
 * Writes the named files of `commit` (paths from the repository root) into `destDir` under the
 * same relative paths: regular files with their mode, symlinks as symlinks. Nothing already in
 * `destDir` is overwritten.
 */
export async function exportCommitFiles(cli: GitCli, commit: string, paths: string[], destDir: string): Promise<void> {
  const root = resolve(destDir);
  const wanted = new Set(paths);
  for (const path of wanted) {
    const target = resolve(root, path);
    if (isAbsolute(path) || path.split('/').some((s) => s === '' || s === '.' || s === '..') || !target.startsWith(root + sep)) {
      throw new GitError('not_in_commit', `"${path}" is not a plain relative path; refusing to write it outside ${destDir}`);
    }
  }
  const entries = (await listTree(cli, commit)).filter((e) => wanted.has(e.path));
  const found = new Set(entries.map((e) => e.path));
  const missing = [...wanted].filter((p) => !found.has(p));
  const submodules = entries.filter((e) => e.gitMode === GITLINK).map((e) => e.path);
  refuseAbsent(commit, [...missing, ...submodules]);
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

  await streamBlobs(cli, [...byOid.keys()], async (oid) => {
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
 * The named files of `commit` (paths relative to `subfolder`, or to the repository root) as one
 * tar stream made by git from its own objects: regular files 0644 or 0755, symlinks as symlinks,
 * under the same relative paths. Nothing is written to the relay's disk first, unlike
 * exportCommitFiles followed by tar, which wrote (and read back) a first deploy's 100 MB. The
 * files are put in a tree of their own (a scratch index, write-tree), so any number of paths
 * travel on stdin, never as arguments. `finished` rejects when git failed; `stop` ends git early.
 */
export async function archiveCommitFiles(cli: GitCli, commit: string, paths: string[], subfolder?: string): Promise<{ tar: Readable; finished: Promise<void>; stop: () => void }> {
  const folder = normaliseFolder(subfolder);
  const prefix = folder ? `${folder}/` : '';
  const wanted = new Set(paths.map((p) => `${prefix}${p}`));
  const entries = (await listTree(cli, commit, folder ? [prefix] : [])).filter((e) => wanted.has(e.path));
  const found = new Set(entries.map((e) => e.path));
  refuseAbsent(commit, [...[...wanted].filter((p) => !found.has(p)), ...entries.filter((e) => e.gitMode === GITLINK).map((e) => e.path)]);
  const index = join(cli.cacheDir, `lanyard-upload-${process.pid}-${Date.now()}.index`);
  const env = { ...cli.env(), GIT_INDEX_FILE: index };
  let tree: string;
  try {
    const info = entries.map((e) => `${e.gitMode} ${e.oid}\t${e.path.slice(prefix.length)}\0`).join('');
    await cli.runWithInput(['-C', cli.cacheDir, 'update-index', '-z', '--index-info'], info, env);
    tree = (await cli.runWithInput(['-C', cli.cacheDir, 'write-tree'], '', env)).trim();
  } catch (error) {
    throw new GitError('git_failed', cli.redact(`could not gather the files to upload in the relay's cache ${cli.cacheDir}: ${errorText(error)}`));
  } finally {
    await rm(index, { force: true });
  }
  // tar.umask 022: git's default (002) would make every file group-writable on the host, and
  // differ from the modes the plan compares with.
  const child = spawn('git', ['-C', cli.cacheDir, '-c', 'tar.umask=022', 'archive', '--format=tar', tree], { env: cli.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const finished = new Promise<void>((resolvePromise, reject) => {
    child.once('error', (error) => reject(new GitError('git_failed', `could not run git: ${error.message}; is git installed and on PATH?`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new GitError('git_failed', cli.redact(`git archive failed in the relay's cache (${code ?? signal}): ${stderr.trim()}`)));
    });
  });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { tar: child.stdout, finished, stop };
}
