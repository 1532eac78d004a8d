// The relay's git source against real git and a local bare repository: which commits it agrees to
// deploy, what it says the files are, what it writes for the upload, and what it never says.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitError } from '../../relay/pipeline/git-error.ts';
import { GitSource, type GitSourceOptions } from '../../relay/pipeline/git-source.ts';
import { createGitFixture, type GitFixture } from '../support/git-fixture.ts';

function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

async function refusal(promise: Promise<unknown>): Promise<GitError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitError);
  return error as GitError;
}

const AUTOMATIONS = '- id: porch\n  alias: Porch light at sunset\n';
const SCRIPT = '#!/bin/sh\necho backing up\n';
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

let repo: GitFixture;
let scratch: string;

function source(overrides: Partial<GitSourceOptions> = {}): GitSource {
  return new GitSource({ remote: repo.bare, branch: 'main', cacheDir: join(scratch, 'cache'), ...overrides });
}

beforeEach(async () => {
  repo = await createGitFixture();
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-git-source-'));
});

afterEach(async () => {
  await repo.dispose();
  await rm(scratch, { recursive: true, force: true });
});

describe('fetching a commit', () => {
  it('fetches a commit of the branch and reports its message, author and time', async () => {
    const sha = await repo.commitAndPush({ 'configuration.yaml': 'homeassistant:\n' }, 'Porch light at sunset\n\nAsked for by Ben.', {
      author: { name: 'Ben Tenant', email: 'ben@example.com' },
      date: '2024-05-01T12:00:00Z',
    });

    const commit = await source().fetchCommit(sha);

    expect(commit).toEqual({ sha, message: 'Porch light at sunset\n\nAsked for by Ben.', author: 'Ben Tenant', committedAt: Date.parse('2024-05-01T12:00:00Z') });
  });

  it('fetches an older commit of the branch after the branch moved on', async () => {
    const older = await repo.commitAndPush({ 'a.yaml': '1' }, 'first');
    await repo.commitAndPush({ 'a.yaml': '2' }, 'second');

    await expect(source().fetchCommit(older)).resolves.toMatchObject({ sha: older, message: 'first' });
  });

  it('refuses a commit that exists only on another branch', async () => {
    await repo.commitAndPush({ 'a.yaml': '1' }, 'on main');
    const experiment = await repo.commitOnOtherBranch('experiment', { 'a.yaml': 'untested' }, 'not reviewed');

    const error = await refusal(source().fetchCommit(experiment));

    expect(error.code).toBe('not_on_branch');
    expect(error.message).toBe(`commit ${experiment.slice(0, 7)} is not on branch main of ${repo.bare}; Lanyard only deploys commits of the allowed branch`);
  });

  it('refuses a commit nobody pushed', async () => {
    await repo.commitAndPush({ 'a.yaml': '1' }, 'on main');
    const local = await repo.commit({ 'a.yaml': 'never pushed' }, 'local only');

    const error = await refusal(source().fetchCommit(local));

    expect(error.code).toBe('unknown_commit');
    expect(error.message).toContain(`commit ${local.slice(0, 7)} is not in ${repo.bare}`);
  });

  it('refuses an abbreviated or malformed sha', async () => {
    const sha = await repo.commitAndPush({ 'a.yaml': '1' }, 'on main');

    expect((await refusal(source().fetchCommit(sha.slice(0, 7)))).code).toBe('unknown_commit');
    expect((await refusal(source().fetchCommit('--upload-pack=touch /tmp/x'))).code).toBe('unknown_commit');
  });

  it('refuses a commit force-pushed off the branch, though the cache still holds it', async () => {
    await repo.commitAndPush({ 'a.yaml': '1' }, 'base');
    const rewritten = await repo.commitAndPush({ 'secrets.yaml': 'oops: leaked' }, 'leaks a secret');
    const git = source();
    await git.fetchCommit(rewritten);

    const replacement = await repo.forcePushMain({ 'a.yaml': '2' }, 'without the leak');

    const error = await refusal(git.fetchCommit(rewritten));
    expect(error.code).toBe('not_on_branch');
    await expect(git.fetchCommit(replacement)).resolves.toMatchObject({ sha: replacement });
  });

  it('refuses a force-pushed-away commit a fresh cache never saw', async () => {
    await repo.commitAndPush({ 'a.yaml': '1' }, 'base');
    const rewritten = await repo.commitAndPush({ 'a.yaml': '2' }, 'rewritten away');
    await repo.forcePushMain({ 'a.yaml': '3' }, 'replacement');

    const error = await refusal(source().fetchCommit(rewritten));

    // The remote may or may not still hand out the unreachable object; either way: no deploy.
    expect(['not_on_branch', 'unknown_commit']).toContain(error.code);
  });

  it('follows the branch head across pushes and force-pushes', async () => {
    const git = source();
    const first = await repo.commitAndPush({ 'a.yaml': '1' }, 'first');
    expect(await git.resolveBranchHead()).toBe(first);
    const second = await repo.commitAndPush({ 'a.yaml': '2' }, 'second');
    expect(await git.resolveBranchHead()).toBe(second);
    const forced = await repo.forcePushMain({ 'a.yaml': '3' }, 'forced');
    expect(await git.resolveBranchHead()).toBe(forced);
  });

  it('says which branch could not be fetched', async () => {
    await repo.commitAndPush({ 'a.yaml': '1' }, 'first');

    const error = await refusal(source({ branch: 'production' }).resolveBranchHead());

    expect(error.code).toBe('fetch_failed');
    expect(error.message).toMatch(/^fetching branch production from .*ha-config\.git failed: .*production/);
  });

  it('refuses a branch name git would read as something else', async () => {
    await repo.commitAndPush({ 'a.yaml': '1' }, 'first');

    const error = await refusal(source({ branch: 'main:refs/heads/evil' }).resolveBranchHead());

    expect(error.code).toBe('bad_branch');
  });

  it('serialises fetches of two sources sharing one cache', async () => {
    const shas = [await repo.commitAndPush({ 'a.yaml': '1' }, 'one'), await repo.commitAndPush({ 'a.yaml': '2' }, 'two')];
    const daemon = source();
    const doctor = source();

    const results = await Promise.all([daemon.fetchCommit(shas[0]!), doctor.resolveBranchHead(), daemon.fetchCommit(shas[1]!), doctor.fetchCommit(shas[0]!), daemon.resolveBranchHead()]);

    expect(results.map((r) => (typeof r === 'string' ? r : r.sha))).toEqual([shas[0], shas[1], shas[1], shas[0], shas[1]]);
  });

  it("ignores the homeowner's global git config and GIT_* environment", async () => {
    const sha = await repo.commitAndPush({ 'a.yaml': '1' }, 'first');
    const home = join(scratch, 'home');
    const globalConfig = join(scratch, 'gitconfig');
    // Would send every fetch of the repository to a folder that does not exist.
    await writeFile(globalConfig, `[url "${join(scratch, 'nowhere')}"]\n\tinsteadOf = ${repo.bare}\n[fetch]\n\tfsckObjects = nonsense\n`);
    const saved = { ...process.env };
    Object.assign(process.env, { HOME: home, GIT_CONFIG_GLOBAL: globalConfig, GIT_DIR: join(scratch, 'nowhere'), GIT_CONFIG_PARAMETERS: "'core.bare'='nonsense'" });
    try {
      await expect(source().fetchCommit(sha)).resolves.toMatchObject({ sha });
    } finally {
      for (const name of ['HOME', 'GIT_CONFIG_GLOBAL', 'GIT_DIR', 'GIT_CONFIG_PARAMETERS']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });
});

describe('the token', () => {
  const TOKEN = 'ghp_lanyardTestToken0123456789abcdefXYZ';
  const forms = [TOKEN, Buffer.from(`x-access-token:${TOKEN}`).toString('base64'), encodeURIComponent(TOKEN)];

  it('never appears in a fetch failure', async () => {
    const error = await refusal(source({ remote: 'http://127.0.0.1:1/x.git', token: TOKEN }).fetchCommit('a'.repeat(40)));

    expect(error.code).toBe('fetch_failed');
    expect(error.message).toMatch(/^fetching branch main from http:\/\/127\.0\.0\.1:1\/x\.git failed: .*127\.0\.0\.1/);
    for (const form of forms) {
      expect(error.message).not.toContain(form);
      expect(error.stack ?? '').not.toContain(form);
    }
  });

  it('is cut from a remote URL that carries it too', async () => {
    const error = await refusal(source({ remote: `http://x-access-token:${TOKEN}@127.0.0.1:1/x.git`, token: TOKEN }).resolveBranchHead());

    expect(error.code).toBe('fetch_failed');
    for (const form of forms) expect(error.message).not.toContain(form);
  });

  it('cuts a password written into the remote URL, token or not', async () => {
    const error = await refusal(source({ remote: 'http://ada:hunter2-correct-horse@127.0.0.1:1/x.git' }).resolveBranchHead());

    expect(error.code).toBe('fetch_failed');
    expect(error.message).toContain('http://***@127.0.0.1:1/x.git');
    expect(error.message).not.toContain('hunter2-correct-horse');
  });

  it('reaches an http remote only as a Basic Authorization header', async () => {
    const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
    const server = createServer((request, response) => {
      seen.push({ url: request.url ?? '', headers: request.headers });
      response.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await refusal(source({ remote: `http://127.0.0.1:${port}/octo-home/ha-config.git`, token: TOKEN }).resolveBranchHead());

      expect(error.code).toBe('fetch_failed');
      expect(seen[0]?.headers.authorization).toBe(`Basic ${forms[1]}`);
      for (const request of seen) expect(request.url).not.toContain(TOKEN);
      for (const form of forms) expect(error.message).not.toContain(form);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it('is not written anywhere in the cache', async () => {
    const sha = await repo.commitAndPush({ 'a.yaml': '1' }, 'first');
    const cacheDir = join(scratch, 'cache');
    await new GitSource({ remote: repo.bare, branch: 'main', cacheDir, token: TOKEN }).fetchCommit(sha);

    const config = await readFile(join(cacheDir, 'config'), 'utf8');
    for (const form of forms) expect(config).not.toContain(form);
  });
});

describe('listing the files of a commit', () => {
  it('lists every file with the sha256 of its content, its mode and size, and symlinks with their target', async () => {
    const sha = await repo.commitAndPush(
      {
        'configuration.yaml': 'homeassistant:\n  name: Home\n',
        'automations.yaml': AUTOMATIONS,
        'scripts/backup.sh': { content: SCRIPT, executable: true },
        'www/logo.bin': BINARY,
        'empty.yaml': '',
        'packages/current.yaml': { symlink: '../automations.yaml' },
        'naïve name with spaces.yaml': 'x: 1\n',
      },
      'A house',
    );
    const git = source();
    await git.fetchCommit(sha);

    const { files, skipped } = await git.listCommitFiles(sha);

    const byPath = new Map(files.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort()).toEqual(['automations.yaml', 'configuration.yaml', 'empty.yaml', 'naïve name with spaces.yaml', 'packages/current.yaml', 'scripts/backup.sh', 'www/logo.bin']);
    expect(byPath.get('automations.yaml')).toEqual({ path: 'automations.yaml', type: 'file', mode: 0o644, size: Buffer.byteLength(AUTOMATIONS), sha256: sha256(AUTOMATIONS) });
    expect(byPath.get('scripts/backup.sh')).toEqual({ path: 'scripts/backup.sh', type: 'file', mode: 0o755, size: SCRIPT.length, sha256: sha256(SCRIPT) });
    expect(byPath.get('www/logo.bin')).toMatchObject({ size: 256, sha256: sha256(BINARY) });
    expect(byPath.get('empty.yaml')).toMatchObject({ size: 0, sha256: sha256('') });
    expect(byPath.get('packages/current.yaml')).toEqual({
      path: 'packages/current.yaml',
      type: 'symlink',
      mode: 0o777,
      linkTarget: '../automations.yaml',
      size: '../automations.yaml'.length,
      sha256: sha256('../automations.yaml'),
    });
    expect(skipped).toEqual([]);
  });

  it('reports submodules as skipped, not as files', async () => {
    const other = await repo.commitAndPush({ 'a.yaml': '1' }, 'first');
    await repo.addSubmoduleEntry('custom_components/vendored', other);
    const sha = await repo.commitAndPush({ 'b.yaml': '2' }, 'with a submodule');
    const git = source();
    await git.fetchCommit(sha);

    const { files, skipped } = await git.listCommitFiles(sha);

    expect(skipped).toEqual(['custom_components/vendored']);
    expect(files.map((f) => f.path).sort()).toEqual(['a.yaml', 'b.yaml']);
  });

  it('lists only the subfolder, with paths relative to it', async () => {
    const sha = await repo.commitAndPush(
      {
        'README.md': '# my house\n',
        'config/configuration.yaml': 'homeassistant:\n',
        'config/scripts/run.sh': { content: SCRIPT, executable: true },
        'config-old/configuration.yaml': 'stale\n',
      },
      'Config in a folder',
    );
    const git = source();
    await git.fetchCommit(sha);

    for (const subfolder of ['config', 'config/', '/config', './config']) {
      const { files } = await git.listCommitFiles(sha, subfolder);
      expect(files.map((f) => [f.path, f.mode])).toEqual([
        ['configuration.yaml', 0o644],
        ['scripts/run.sh', 0o755],
      ]);
    }
  });

  it('refuses a subfolder the commit does not have, rather than listing nothing', async () => {
    const sha = await repo.commitAndPush({ 'config/configuration.yaml': 'homeassistant:\n' }, 'Config in a folder');
    const git = source();
    await git.fetchCommit(sha);

    const error = await refusal(git.listCommitFiles(sha, 'confg'));

    expect(error.code).toBe('not_in_commit');
    expect(error.message).toBe(`commit ${sha.slice(0, 7)} has no folder confg/; check git.subfolder in the relay config`);
  });

  it('says a commit must be fetched before it is listed', async () => {
    const sha = await repo.commitAndPush({ 'a.yaml': '1' }, 'first');

    expect((await refusal(source().listCommitFiles(sha))).code).toBe('unknown_commit');
  });

  it('lists a 3,000-file repository', async () => {
    const listing: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) listing[`packages/area-${String(i % 30).padStart(2, '0')}/device-${String(i).padStart(4, '0')}.yaml`] = `id: ${i}\nname: Device ${i}\n`;
    // Duplicate content in many files: one blob, many paths.
    for (let i = 0; i < 20; i++) listing[`blueprints/same-${i}.yaml`] = 'blueprint: same\n';
    const sha = await repo.commitAndPush(listing, 'A big house');
    const git = source();
    await git.fetchCommit(sha);

    const { files } = await git.listCommitFiles(sha);

    expect(files).toHaveLength(3020);
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const [path, content] of Object.entries(listing)) {
      expect(byPath.get(path)).toEqual({ path, type: 'file', mode: 0o644, size: Buffer.byteLength(content), sha256: sha256(content) });
    }
  });
});

describe('exporting files for the upload', () => {
  it('writes identical bytes and modes, and symlinks as symlinks', async () => {
    const large = randomBytes(3 * 1024 * 1024 + 17);
    const sha = await repo.commitAndPush(
      {
        'automations.yaml': AUTOMATIONS,
        'copy-of-automations.yaml': AUTOMATIONS,
        'scripts/backup.sh': { content: SCRIPT, executable: true },
        'www/logo.bin': BINARY,
        'www/large.bin': large,
        'empty.yaml': '',
        'packages/current.yaml': { symlink: '../automations.yaml' },
        'not-asked-for.yaml': 'x: 1\n',
      },
      'A house',
    );
    const git = source();
    await git.fetchCommit(sha);
    const dest = join(scratch, 'upload');
    const wanted = ['automations.yaml', 'copy-of-automations.yaml', 'scripts/backup.sh', 'www/logo.bin', 'www/large.bin', 'empty.yaml', 'packages/current.yaml'];

    await git.exportCommitFiles(sha, wanted, dest);

    const { files } = await git.listCommitFiles(sha);
    for (const file of files.filter((f) => wanted.includes(f.path))) {
      const path = join(dest, file.path);
      const info = await lstat(path);
      if (file.type === 'symlink') {
        expect(info.isSymbolicLink()).toBe(true);
        expect(await readlink(path)).toBe(file.linkTarget);
      } else {
        expect(info.mode & 0o777, file.path).toBe(file.mode);
        expect(sha256(await readFile(path)), file.path).toBe(file.sha256);
      }
    }
    expect((await readFile(join(dest, 'www/large.bin'))).equals(large)).toBe(true);
    await expect(lstat(join(dest, 'not-asked-for.yaml'))).rejects.toThrow();
  });

  it('takes paths from the repository root when deploying a subfolder', async () => {
    const sha = await repo.commitAndPush({ 'config/configuration.yaml': 'homeassistant:\n', 'README.md': 'x' }, 'Config in a folder');
    const git = source();
    await git.fetchCommit(sha);
    const dest = join(scratch, 'upload');

    await git.exportCommitFiles(sha, ['config/configuration.yaml'], dest);

    expect(await readFile(join(dest, 'config/configuration.yaml'), 'utf8')).toBe('homeassistant:\n');
  });

  it('refuses paths the commit does not have, naming them', async () => {
    const sha = await repo.commitAndPush({ 'a.yaml': '1' }, 'first');
    const git = source();
    await git.fetchCommit(sha);

    const error = await refusal(git.exportCommitFiles(sha, ['a.yaml', 'b.yaml'], join(scratch, 'upload')));

    expect(error.code).toBe('not_in_commit');
    expect(error.message).toContain('b.yaml');
  });

  it('refuses a path that would land outside the destination', async () => {
    const sha = await repo.commitAndPush({ 'a.yaml': '1' }, 'first');
    const git = source();
    await git.fetchCommit(sha);

    const error = await refusal(git.exportCommitFiles(sha, ['../escape.yaml'], join(scratch, 'upload')));

    expect(error.code).toBe('not_in_commit');
    await expect(lstat(join(scratch, 'escape.yaml'))).rejects.toThrow();
  });
});

describe('reading one file', () => {
  it('returns the bytes of a file, and null where the commit has no regular file', async () => {
    const sha = await repo.commitAndPush(
      { 'lanyard.yaml': 'exclude: []\n', 'www/logo.bin': BINARY, 'link.yaml': { symlink: 'lanyard.yaml' }, 'config/x.yaml': 'x' },
      'first',
    );
    const git = source();
    await git.fetchCommit(sha);

    expect((await git.readCommitFile(sha, 'lanyard.yaml'))?.toString('utf8')).toBe('exclude: []\n');
    expect(await git.readCommitFile(sha, 'www/logo.bin')).toEqual(BINARY);
    expect(await git.readCommitFile(sha, 'missing.yaml')).toBeNull();
    expect(await git.readCommitFile(sha, 'link.yaml')).toBeNull();
    expect(await git.readCommitFile(sha, 'config')).toBeNull();
    expect(await git.readCommitFile(sha, 'con*/x.yaml')).toBeNull();
  });
});
