// Reading a commit's objects from the relay's git cache: its tree in one `git ls-tree`, and many
// blobs streamed through one `git cat-file --batch`.
import { spawn } from 'node:child_process';
import type { GitCli } from './git-cli.ts';
import { GitError } from './git-error.ts';

export interface TreeEntry {
  path: string;
  gitMode: string;
  oid: string;
}

/** Receives one blob's content in chunks, in order; `end` runs after the last chunk. */
export interface BlobSink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

export const GITLINK = '160000';
export const SYMLINK = '120000';
export const EXECUTABLE = '100755';

/** `config/`, `/config`, `./config//` → `config`; `''` and `.` → `''` (the whole repository). */
export function normaliseFolder(folder: string | undefined): string {
  return (folder ?? '')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/** Every entry of the commit's tree, recursively, in one `git ls-tree`. */
export async function listTree(cli: GitCli, sha: string, paths: string[] = []): Promise<TreeEntry[]> {
  const out = (await cli.git(['ls-tree', '-r', '-z', '--full-tree', sha, '--', ...paths])).toString('utf8');
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
export async function streamBlobs(cli: GitCli, oids: string[], open: (oid: string, size: number) => BlobSink | Promise<BlobSink>): Promise<void> {
  if (!oids.length) return;
  const child = spawn('git', ['-C', cli.cacheDir, 'cat-file', '--batch'], { env: cli.env(), stdio: ['pipe', 'pipe', 'pipe'] });
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
          throw new GitError('git_failed', `object ${oid} is ${type} in the relay's cache; delete ${cli.cacheDir} so the next fetch rebuilds it`);
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
