// The crash journal and the job runner on a real disk: what a relay killed mid-job finds on restart.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobMessage, RelayMessage } from '../../shared/protocol.ts';
import { JobRunner, type JobExecutor } from '../../relay/job-runner.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { testJobId } from '../support/wire-ids.ts';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function job(id: string): JobMessage {
  return { type: 'job', jobId: id, attempt: 1, kind: 'deploy', target: 'home', sha: 'a'.repeat(40), ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop', requestedBy: 'ada' };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the journal', () => {
  it('records the step before it runs and leaves no temporary files behind', async () => {
    const journal = new Journal(dir);
    await journal.open();
    await journal.write({ job: job(testJobId(1)), step: 'apply', startedAt: 1, context: { backupId: 'lanyard-20261122T190500Z-b1' } });
    expect(await journal.current()).toMatchObject({ job: { jobId: testJobId(1) }, step: 'apply', context: { backupId: 'lanyard-20261122T190500Z-b1' } });
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps a finished result in the outbox until the edge confirms it', async () => {
    const journal = new Journal(dir);
    await journal.open();
    await journal.write({ job: job(testJobId(2)), step: 'verify', startedAt: 1, context: {} });
    await journal.finish({ type: 'result', jobId: testJobId(2), status: 'succeeded', reason: null, summary: { filesChanged: [], filesDeleted: [], bytesSent: 0, activation: 'none', reloadedDomains: [], backupId: null, drift: [], durationsMs: {} } });
    expect(await journal.current()).toBeNull();
    expect((await journal.pendingResults()).map((r) => r.jobId)).toEqual([testJobId(2)]);
    await journal.forget(testJobId(2));
    expect(await journal.pendingResults()).toEqual([]);
  });

  it('refuses to guess when the journal is damaged, and says how to recover', async () => {
    const journal = new Journal(dir);
    await journal.open();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'current-job.json'), '{"job": {"jobId": 1}}');
    await expect(journal.current()).rejects.toThrow(/unreadable; move it aside/);
  });
});

describe('the job runner', () => {
  function recorder() {
    const sent: RelayMessage[] = [];
    return { sent, channel: { send: (m: RelayMessage) => (sent.push(m), true) } };
  }

  it('acknowledges, journals each step, and reports the result once', async () => {
    const journal = new Journal(dir);
    await journal.open();
    const seen: string[] = [];
    const executor: JobExecutor = {
      async execute(_job, steps) {
        await steps.step('fetch', async () => seen.push((await journal.current())!.step));
        await steps.step('apply', async () => seen.push((await journal.current())!.step));
        return { status: 'succeeded', reason: null, summary: {} };
      },
      recover: async () => ({ status: 'failed', reason: 'unexpected', summary: {} }),
    };
    const { sent, channel } = recorder();
    const runner = new JobRunner(journal, executor, channel, quiet, 'home');
    runner.onMessage(job(testJobId(3)));
    await new Promise((r) => setTimeout(r, 20));
    await runner.idle();
    expect(seen).toEqual(['fetch', 'apply']);
    expect(sent[0]).toEqual({ type: 'ack', jobId: testJobId(3), attempt: 1 });
    expect(sent.filter((m) => m.type === 'progress').map((m) => m.type === 'progress' && `${m.step}:${m.status}`)).toEqual([
      'fetch:started',
      'fetch:succeeded',
      'apply:started',
      'apply:succeeded',
    ]);
    expect(sent.at(-1)).toMatchObject({ type: 'result', jobId: testJobId(3), status: 'succeeded' });
  });

  it('never runs a finished job twice: a repeated job is answered from the outbox', async () => {
    const journal = new Journal(dir);
    await journal.open();
    let runs = 0;
    const executor: JobExecutor = {
      execute: async () => (runs += 1, { status: 'succeeded', reason: null, summary: {} }),
      recover: async () => ({ status: 'failed', reason: 'unexpected', summary: {} }),
    };
    const { sent, channel } = recorder();
    const runner = new JobRunner(journal, executor, channel, quiet, 'home');
    runner.onMessage(job(testJobId(4)));
    await new Promise((r) => setTimeout(r, 20));
    await runner.idle();
    runner.onMessage({ ...job(testJobId(4)), attempt: 2 });
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    expect(sent.filter((m) => m.type === 'result')).toHaveLength(2);
  });

  it('refuses a job for another target with an error naming both, and neither journals nor runs it', async () => {
    const journal = new Journal(dir);
    await journal.open();
    let runs = 0;
    const executor: JobExecutor = {
      execute: async () => (runs += 1, { status: 'succeeded', reason: null, summary: {} }),
      recover: async () => ({ status: 'failed', reason: 'unexpected', summary: {} }),
    };
    const { sent, channel } = recorder();
    const runner = new JobRunner(journal, executor, channel, quiet, 'home');
    runner.onMessage({ ...job(testJobId(6)), target: 'cabin' });
    await runner.idle();
    expect(sent).toEqual([
      { type: 'error', code: 'invalid_message', message: `job ${testJobId(6)} is for target "cabin", but this relay serves "home"; refused, nothing was done`, jobId: testJobId(6) },
    ]);
    expect(runs).toBe(0);
    expect(await journal.current()).toBeNull();
  });

  it('on start, hands an interrupted job to recovery before anything else and reports it', async () => {
    const journal = new Journal(dir);
    await journal.open();
    await journal.write({ job: job(testJobId(5)), step: 'check', startedAt: 1, context: { backupId: 'lanyard-20261122T190500Z-b5' } });
    const executor: JobExecutor = {
      execute: async () => ({ status: 'succeeded', reason: null, summary: {} }),
      recover: async (entry) => ({ status: 'rolled_back', reason: `stopped during ${entry.step}; restored ${String(entry.context.backupId)}`, summary: {} }),
    };
    const { sent, channel } = recorder();
    const runner = new JobRunner(journal, executor, channel, quiet, 'home');
    expect(await runner.inFlight()).toEqual({ jobId: testJobId(5), attempt: 1, step: 'check' });
    await runner.recover();
    await runner.idle();
    expect(sent.at(-1)).toMatchObject({ type: 'result', jobId: testJobId(5), status: 'rolled_back', reason: 'stopped during check; restored lanyard-20261122T190500Z-b5' });
    expect(await journal.current()).toBeNull();
    const outbox = JSON.parse(await readFile(join(dir, 'outbox', `${testJobId(5)}.json`), 'utf8'));
    expect(outbox.status).toBe('rolled_back');
  });
});
