// Commits that `git add` would never make: tree entries named `..`, names that are not UTF-8 or
// hold a newline, a blob and a folder under one name, gitlinks. Built with git's plumbing
// (`hash-object`, `mktree`, `commit-tree`), which writes whatever it is given, on top of the work
// clone's HEAD, and pushed to the bare repository as a forged or broken client could push them.
// Afterwards the work clone's HEAD is the crafted commit but its index keeps the last good tree, so
// the next ordinary commit of the house is a child of it that drops every crafted entry.
import { spawn } from 'node:child_process';

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Mallory Forger',
  GIT_AUTHOR_EMAIL: 'mallory@example.com',
  GIT_COMMITTER_NAME: 'Mallory Forger',
  GIT_COMMITTER_EMAIL: 'mallory@example.com',
};

/** One crafted entry: its path as segments (each may be any bytes but "/" and NUL, even `..`). */
export interface CraftedEntry {
  path: readonly (string | Buffer)[];
  kind: 'file' | 'executable' | 'symlink' | 'gitlink';
  /** File content, a symlink's target, or for a gitlink the commit sha it points at. */
  content: string | Buffer;
}

function gitRaw(cwd: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    // Commands that read no input may exit before taking it.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`git ${args.join(' ')} failed (${code}): ${err.trim()}`))));
    child.stdin.end(input ?? '');
  });
}

async function gitText(cwd: string, args: string[], input?: Buffer): Promise<string> {
  return (await gitRaw(cwd, args, input)).toString('utf8').trim();
}

interface Node {
  name: Buffer;
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  oid?: string;
  children?: Node[];
}

const MODES: Record<CraftedEntry['kind'], string> = { file: '100644', executable: '100755', symlink: '120000', gitlink: '160000' };

function childFolder(parent: Node, name: Buffer): Node {
  // A folder of that name is reused; a blob of the same name stays beside it (a crafted duplicate).
  let folder = parent.children!.find((c) => c.type === 'tree' && c.name.equals(name));
  if (!folder) {
    folder = { name, mode: '040000', type: 'tree', children: [] };
    parent.children!.push(folder);
  }
  return folder;
}

async function writeTree(cwd: string, node: Node): Promise<string> {
  const lines: Buffer[] = [];
  for (const child of node.children!) {
    const oid = child.type === 'tree' ? await writeTree(cwd, child) : child.oid!;
    lines.push(Buffer.concat([Buffer.from(`${child.mode} ${child.type} ${oid}\t`), child.name, Buffer.from([0])]));
  }
  // --missing: a gitlink names a commit this repository does not have.
  return gitText(cwd, ['mktree', '-z', '--missing'], Buffer.concat(lines));
}

/** HEAD's tree plus `entries` (replacing a blob of the same path), committed and pushed to main; returns the sha. */
export async function pushCraftedCommit(work: string, entries: readonly CraftedEntry[], message: string, remove: readonly string[] = []): Promise<string> {
  const root: Node = { name: Buffer.alloc(0), mode: '040000', type: 'tree', children: [] };
  const listing = await gitRaw(work, ['ls-tree', '-r', '-z', '--full-tree', 'HEAD']);
  let start = 0;
  for (let end = listing.indexOf(0, start); end >= 0; start = end + 1, end = listing.indexOf(0, start)) {
    const record = listing.subarray(start, end);
    const tab = record.indexOf(0x09);
    const [mode, type, oid] = record.subarray(0, tab).toString('utf8').split(' ');
    const path = record.subarray(tab + 1);
    if (remove.includes(path.toString('utf8'))) continue;
    const segments: Buffer[] = [];
    for (let s = 0, slash = path.indexOf(0x2f); ; s = slash + 1, slash = path.indexOf(0x2f, s)) {
      segments.push(path.subarray(s, slash < 0 ? undefined : slash));
      if (slash < 0) break;
    }
    let folder = root;
    for (const segment of segments.slice(0, -1)) folder = childFolder(folder, segment);
    folder.children!.push({ name: segments.at(-1)!, mode: mode!, type: type as Node['type'], oid: oid! });
  }
  for (const entry of entries) {
    const segments = entry.path.map((s) => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8')));
    let folder = root;
    for (const segment of segments.slice(0, -1)) folder = childFolder(folder, segment);
    const name = segments.at(-1)!;
    folder.children = folder.children!.filter((c) => c.type === 'tree' || !c.name.equals(name));
    const oid =
      entry.kind === 'gitlink'
        ? entry.content.toString()
        : await gitText(work, ['hash-object', '-w', '--stdin'], Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content, 'utf8'));
    folder.children.push({ name, mode: MODES[entry.kind], type: entry.kind === 'gitlink' ? 'commit' : 'blob', oid });
  }
  const tree = await writeTree(work, root);
  const sha = await gitText(work, ['commit-tree', tree, '-p', 'HEAD', '-m', message]);
  await gitRaw(work, ['push', '--quiet', 'origin', `${sha}:refs/heads/main`]);
  await gitRaw(work, ['reset', '--quiet', '--soft', sha]);
  return sha;
}
