// The drift watch's clock and manners: it never looks while a job holds the host, looks again
// right after each job, keeps looking every interval, sends each look's report (and the latest one
// when the edge welcomes the relay), and says a host it cannot reach once, not every few minutes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DriftReportMessage } from '../../shared/drift.ts';
import type { RelayMessage } from '../../shared/protocol.ts';
import { HostLock } from '../../relay/host-lock.ts';
import { JobRunner } from '../../relay/job-runner.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { DriftWatch } from '../../relay/watch/drift-watch.ts';
import { testJobId } from '../support/wire-ids.ts';

const SHA = 'd'.repeat(40);

function report(total: number, at = 1): DriftReportMessage {
  const files = Array.from({ length: total }, (_, i) => ({ path: `f${i}.yaml`, change: 'modified' as const, since: 1, diff: null, diffNote: null }));
  return { type: 'drift', at, deployedSha: SHA, files, total };
}

function recorder() {
  const lines: string[] = [];
  const logger: Logger = { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
  return { lines, logger };
}

/** Resolves once `condition` holds, checked at every turn of the event loop (the test's timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Lets every callback already due run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('drift watch', () => {
  it('never looks while a job holds the host, and looks once right after it', async () => {
    const lock = new HostLock();
    let releaseJob!: () => void;
    let looking = false;
    let lookedDuringJob = false;
    let jobRunning = false;
    const sent: DriftReportMessage[] = [];
    const watch = new DriftWatch({
      lock,
      intervalMs: 60_000,
      logger: recorder().logger,
      send: (r) => (sent.push(r), true),
      look: async () => {
        looking = true;
        lookedDuringJob ||= jobRunning;
        looking = false;
        return report(0);
      },
    });
    const job = lock.run(async () => {
      jobRunning = true;
      await new Promise<void>((resolve) => (releaseJob = resolve));
      jobRunning = false;
    });
    watch.start();
    // The interval's first look and the job's end both ask; the host is busy: nothing yet.
    for (let i = 0; i < 20; i += 1) await settle();
    watch.afterJob();
    expect(sent).toHaveLength(0);
    expect(lock.busy).toBe(true);
    releaseJob();
    await job;
    await until(() => sent.length === 1);
    expect(lookedDuringJob).toBe(false);
    expect(looking).toBe(false);
    // A job that starts while a look runs waits for it.
    let jobStartedDuringLook = false;
    let inLook = false;
    const slow = new DriftWatch({
      lock,
      intervalMs: 60_000,
      logger: recorder().logger,
      send: () => true,
      look: async () => {
        inLook = true;
        await settle();
        inLook = false;
        return report(0);
      },
    });
    const looked = slow.lookNow();
    await lock.run(async () => {
      jobStartedDuringLook = inLook;
    });
    await looked;
    expect(jobStartedDuringLook).toBe(false);
    await Promise.all([watch.stop(), slow.stop()]);
  });

  it('looks every interval and sends every look, changed or not; the welcome gets the latest', async () => {
    let looks = 0;
    const sent: DriftReportMessage[] = [];
    const watch = new DriftWatch({
      lock: new HostLock(),
      intervalMs: 10,
      logger: recorder().logger,
      send: (r) => (sent.push(r), true),
      look: async () => report(looks++ < 2 ? 0 : 1, looks),
    });
    watch.start();
    await until(() => sent.length >= 4);
    await watch.stop();
    expect(sent.slice(0, 4).map((r) => r.total)).toEqual([0, 0, 1, 1]);
    const before = sent.length;
    watch.onReady();
    expect(sent).toHaveLength(before + 1);
    expect(sent.at(-1)).toBe(watch.latest);
  });

  it('a host it cannot reach is said once (and again when it answers), never ends the watch', async () => {
    const { lines, logger } = recorder();
    let looks = 0;
    const sent: DriftReportMessage[] = [];
    const watch = new DriftWatch({
      lock: new HostLock(),
      intervalMs: 5,
      logger,
      send: (r) => (sent.push(r), true),
      look: async () => {
        looks += 1;
        if (looks <= 4) throw new Error('ssh: connect ECONNREFUSED 127.0.0.1:2222');
        return report(0);
      },
    });
    watch.start();
    await until(() => sent.length >= 1);
    await watch.stop();
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual(['warn drift watch: could not look at the host: ssh: connect ECONNREFUSED 127.0.0.1:2222']);
    expect(lines).toContain('info drift watch: looking at the host again');
    // The welcome before any look succeeded sends nothing (the look on its way will).
    const fresh = new DriftWatch({ lock: new HostLock(), intervalMs: 5, logger, send: (r) => (sent.push(r), true), look: async () => report(0) });
    const count = sent.length;
    fresh.onReady();
    expect(sent).toHaveLength(count);
  });

  it('the job runner holds the host for the whole job, and calls for a look once the result went out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lanyard-watch-runner-'));
    try {
      const journal = new Journal(dir);
      await journal.open();
      const lock = new HostLock();
      const sent: RelayMessage[] = [];
      let heldDuringJob = false;
      const calls: string[] = [];
      const runner = new JobRunner(
        journal,
        {
          execute: async () => {
            heldDuringJob = lock.busy;
            return { status: 'succeeded', reason: null, summary: {} };
          },
          recover: async () => ({ status: 'failed', reason: 'unexpected', summary: {} }),
        },
        { send: (m) => (sent.push(m), true) },
        recorder().logger,
        'home',
        { hostLock: lock, afterJob: () => calls.push(`look after ${sent.filter((m) => m.type === 'result').length} result(s)`) },
      );
      runner.onMessage({ type: 'job', jobId: testJobId(7), attempt: 1, kind: 'deploy', target: 'home', sha: 'a'.repeat(40), ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop', requestedBy: 'ada' });
      await until(() => calls.length === 1);
      await runner.idle();
      expect(heldDuringJob).toBe(true);
      expect(calls).toEqual(['look after 1 result(s)']);
      expect(lock.busy).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
