// The relay's side of a capture, in parts: which files count as drifted (pure, the watch's rules), the branch guard
// that runs before git, the commit built with plumbing in a real bare repository (modified, added,
// deleted, under a subfolder), and the one-at-a-time rule shared with jobs.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureBranchName, captureRef } from '../../relay/capture/capture-branch.ts';
import { makeCaptureCommit, pushCaptureBranch } from '../../relay/capture/capture-commit.ts';
import { compareWithManifest, driftRulesOf } from '../../relay/watch/drift-comparison.ts';
import { JobRunner, type JobExecutor } from '../../relay/job-runner.ts';
import { Journal } from '../../relay/journal.ts';
import { relayCapabilities } from '../../relay/version.ts';
import type { Logger } from '../../relay/log.ts';
import { GitCli } from '../../relay/pipeline/git-cli.ts';
import type { FileEntry } from '../../relay/pipeline/manifest.ts';
import type { CaptureMessage } from '../../shared/drift.ts';
import type { RelayMessage } from '../../shared/protocol.ts';
import { testJobId } from '../support/wire-ids.ts';

const run = promisify(execFile);
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sha = (c: string) => c.repeat(64);
const file = (path: string, hash: string): FileEntry => ({ path, sha256: sha(hash), mode: 0o644, size: 1, type: 'file' });

// A capture judges by the drift watch's rules and comparison (relay/watch/drift-comparison.ts).
const noGlobs = { protect: [], include: [], exclude: [] };
const drifted = (deployed: FileEntry[], live: FileEntry[], protect: string[] = []) =>
  compareWithManifest(deployed, live, driftRulesOf({ deploy: { protect, include: [], exclude: [] } } as never, noGlobs)).map(({ path, change }) => `${change} ${path}`);

describe('what a capture counts as drifted', () => {
  const deployed = [file('automations.yaml', 'a'), file('packages/garden.yaml', 'b'), file('packages/pool.yaml', 'c'), file('secrets.yaml', 'd'), { ...file('www/link', 'e'), type: 'symlink' as const, linkTarget: 'a.txt' }];

  it('names modified, deleted and added files, in path order, and never a protected one', () => {
    const live = [
      file('automations.yaml', '1'),
      file('packages/garden.yaml', 'b'),
      file('packages/new.yaml', 'f'),
      file('secrets.yaml', '9'),
      file('packages/secrets.yaml', '8'),
      file('.storage/auth', '7'),
      file('home-assistant_v2.db', '6'),
      file('.HA_VERSION', '5'),
      { ...file('www/link', 'f'), type: 'symlink' as const, linkTarget: 'b.txt' },
    ];
    expect(drifted(deployed, live)).toEqual([
      'modified automations.yaml',
      'added packages/new.yaml',
      'deleted packages/pool.yaml',
      'modified www/link',
    ]);
  });

  it('leaves out a new file in a folder Lanyard deploys nothing to, and one the owner protects', () => {
    const live = [...deployed, file('custom_components/x/__init__.py', '1'), file('packages/private.yaml', '2')];
    expect(drifted(deployed, live, ['packages/private.yaml'])).toEqual([]);
  });

  it('is empty when the host matches', () => {
    expect(drifted(deployed, deployed)).toEqual([]);
  });
});

describe('the capture branch guard', () => {
  it('names the branch by target and UTC day', () => {
    expect(captureBranchName('home', Date.UTC(2026, 11, 2, 23, 59))).toBe('lanyard/host-edits/home/2026-12-02');
  });

  it('refuses anything outside lanyard/host-edits/, before git is called', async () => {
    expect(captureRef('lanyard/host-edits/home/2026-12-02')).toBe('refs/heads/lanyard/host-edits/home/2026-12-02');
    for (const branch of ['main', 'refs/heads/main', 'lanyard/host-edits/', 'lanyard/host-edits/../../main', 'lanyard/host-edits/home//x', 'lanyard/host-edits/a:refs/heads/main', 'lanyard/host-edits/a b', 'lanyard/host-edits/.hidden', 'lanyard/host-edits/x.lock', '-f', 'lanyard/host-editsX/home']) {
      expect(() => captureRef(branch), branch).toThrow(/only pushes branches under lanyard\/host-edits\//);
    }
    // A git that would push is never started: the remote does not even exist.
    const cli = new GitCli({ remote: '/nonexistent', cacheDir: '/nonexistent' });
    await expect(pushCaptureBranch(cli, '/nonexistent', 'a'.repeat(40), 'main')).rejects.toMatchObject({ code: 'capture_branch_refused' });
  });
});

describe('the capture commit', () => {
  let dir: string;
  let repo: string;
  let base: string;
  const git = async (...args: string[]) => (await run('git', ['-C', repo, ...args], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com' } })).stdout.trim();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanyard-capture-commit-'));
    repo = join(dir, 'repo');
    await run('git', ['init', '--quiet', '--initial-branch=main', repo]);
    await run('mkdir', ['-p', join(repo, 'ha/www'), join(repo, 'docs')]);
    await writeFile(join(repo, 'ha/automations.yaml'), '[]\n');
    await writeFile(join(repo, 'ha/www/old.txt'), 'old\n');
    await writeFile(join(repo, 'docs/readme.md'), 'not deployed\n');
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'Initial');
    base = await git('rev-parse', 'HEAD');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts the edits under the subfolder, on the deployed commit, with the relay as author, and touches no ref', async () => {
    const cli = new GitCli({ remote: repo, cacheDir: join(repo, '.git') });
    const at = Date.UTC(2026, 11, 2, 21, 0, 0);
    const commit = await makeCaptureCommit(cli, {
      base,
      subfolder: 'ha',
      edits: [
        { path: 'automations.yaml', change: 'modified', content: { kind: 'file', bytes: Buffer.from('- id: ui\n'), executable: false } },
        { path: 'www/old.txt', change: 'deleted', content: null },
        { path: 'scripts/run.sh', change: 'added', content: { kind: 'file', bytes: Buffer.from('#!/bin/sh\n'), executable: true } },
        { path: 'www/link', change: 'added', content: { kind: 'symlink', target: '../automations.yaml' } },
      ],
      message: 'Host edits\n',
      identity: { name: 'Lanyard relay', email: 'home' },
      at,
    });
    expect(await git('rev-parse', `${commit}^`)).toBe(base);
    expect(await git('log', '-1', '--format=%an <%ae> %at|%cn <%ce> %ct', commit)).toBe(`Lanyard relay <home> ${at / 1000}|Lanyard relay <home> ${at / 1000}`);
    expect((await git('ls-tree', '-r', '--format=%(objectmode) %(path)', commit)).split('\n')).toEqual([
      '100644 docs/readme.md',
      '100644 ha/automations.yaml',
      '100755 ha/scripts/run.sh',
      '120000 ha/www/link',
    ]);
    expect(await git('cat-file', 'blob', `${commit}:ha/automations.yaml`)).toBe('- id: ui');
    expect(await git('rev-parse', 'main')).toBe(base);
    expect(await git('status', '--porcelain')).toBe('');
  });
});

describe('what the relay says it can do', () => {
  it('names capture in hello only with a capture section in its config', () => {
    expect(relayCapabilities({})).not.toContain('capture');
    expect(relayCapabilities({ capture: {} })).toContain('capture');
  });
});

describe('captures and jobs take turns', () => {
  it('a capture waits for the job in flight, and a job that comes meanwhile waits for the capture', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lanyard-capture-turns-'));
    const journal = new Journal(dir);
    await journal.open();
    const order: string[] = [];
    let finishJob!: () => void;
    let finishCapture!: () => void;
    const executor: JobExecutor = {
      async execute(job) {
        order.push(`job ${job.jobId} start`);
        if (job.jobId === testJobId(1)) await new Promise<void>((r) => (finishJob = r));
        order.push(`job ${job.jobId} end`);
        return { status: 'succeeded', reason: null, summary: {} };
      },
      recover: async () => ({ status: 'failed', reason: 'unexpected', summary: {} }),
      async capture(message) {
        order.push('capture start');
        await new Promise<void>((r) => (finishCapture = r));
        order.push('capture end');
        return { type: 'captured', captureId: message.captureId, outcome: 'nothing_to_capture', branch: null, commit: null, base: null, files: [], total: 0, reason: null, at: 1 };
      },
    };
    const sent: RelayMessage[] = [];
    const runner = new JobRunner(journal, executor, { send: (m) => (sent.push(m), true) }, quiet, 'home');
    const job = (id: string) => ({ type: 'job' as const, jobId: id, attempt: 1, kind: 'deploy' as const, target: 'home', sha: 'a'.repeat(40), ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop' as const, requestedBy: 'ada' });
    const capture: CaptureMessage = { type: 'capture', captureId: 'cap_0000000000000000000a', target: 'home', requestedBy: 'otto' };
    const tick = () => new Promise((r) => setTimeout(r, 30));
    runner.onMessage(job(testJobId(1)));
    await tick();
    runner.onMessage(capture);
    await tick();
    expect(order).toEqual([`job ${testJobId(1)} start`]);
    finishJob();
    await tick();
    expect(order.at(-1)).toBe('capture start');
    runner.onMessage(job(testJobId(2)));
    await tick();
    expect(order.at(-1)).toBe('capture start');
    finishCapture();
    await tick();
    await runner.idle();
    expect(order).toEqual([`job ${testJobId(1)} start`, `job ${testJobId(1)} end`, 'capture start', 'capture end', `job ${testJobId(2)} start`, `job ${testJobId(2)} end`]);
    expect(sent.find((m) => m.type === 'captured')).toMatchObject({ captureId: capture.captureId, outcome: 'nothing_to_capture' });
    // A capture for another target is answered, not run.
    runner.onMessage({ ...capture, target: 'cabin' });
    await tick();
    expect(sent.filter((m) => m.type === 'captured').at(-1)).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/this relay serves "home"/) });
    await rm(dir, { recursive: true, force: true });
  });
});
