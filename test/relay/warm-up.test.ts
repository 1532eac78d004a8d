// A relay that starts fetches its branch at once: the first push's job then fetches only what that
// push added. Starting without a reachable remote is not a crash; the job will say what is wrong.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveRelayConfig } from '../../relay/config.ts';
import { createPipeline } from '../../relay/pipeline/deploy-pipeline.ts';

const run = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd })).stdout.trim();
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-warm-up-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pipelineFor(remote: string, said: string[]) {
  const stateDir = join(dir, 'state');
  const loaded = await resolveRelayConfig(
    {
      stateDir,
      edge: { url: 'http://127.0.0.1:9', target: 'home', token: 'warm-up-relay-token-0123456789' },
      git: { remote, branch: 'main' },
      host: { transport: 'local', configRoot: join(dir, 'config'), backupDir: join(dir, 'backup') },
      homeAssistant: { url: 'http://127.0.0.1:9', token: 'ha-token', sensor: false, notify: false },
    },
    join(dir, 'relay.yaml'),
  );
  const log = (line: string) => said.push(line);
  return { pipeline: await createPipeline(loaded, { info: log, warn: log, error: log }), cache: join(stateDir, 'git-cache') };
}

describe('warming the git cache when the relay starts', () => {
  it('fetches the branch head and hashes its files before any job', async () => {
    const work = join(dir, 'work');
    await mkdir(join(work, 'packages'), { recursive: true });
    await git(dir, 'init', '--quiet', '--initial-branch=main', work);
    await writeFile(join(work, 'configuration.yaml'), 'homeassistant:\n');
    await writeFile(join(work, 'packages/lights.yaml'), 'light: []\n');
    await git(work, 'add', '-A');
    await git(work, '-c', 'user.name=Owner', '-c', 'user.email=owner@example.invalid', 'commit', '--quiet', '-m', 'First');
    const head = await git(work, 'rev-parse', 'HEAD');

    const said: string[] = [];
    const { pipeline, cache } = await pipelineFor(work, said);
    try {
      await pipeline.warmUp();
    } finally {
      await pipeline.close();
    }
    expect(said.join('\n')).toMatch(new RegExp(`git cache warm: main at ${head.slice(0, 7)}, 2 files hashed`));
    expect(await git(dir, '--git-dir', cache, 'rev-parse', 'refs/remotes/origin/main')).toBe(head);
  });

  it('says it could not, and goes on, when the remote is not there', async () => {
    const said: string[] = [];
    const { pipeline } = await pipelineFor(join(dir, 'no-such-repository'), said);
    try {
      await expect(pipeline.warmUp()).resolves.toBeUndefined();
    } finally {
      await pipeline.close();
    }
    expect(said.join('\n')).toMatch(/could not warm the git cache \(the first job will fetch\): fetching branch main from .*no-such-repository failed/);
  });
});
