// The drift watch's clock and manners: it never looks while a job holds the host, looks again
// right after each job, keeps looking every interval, sends each look's report (and the latest one
// when the edge welcomes the relay), and says a host it cannot reach once, not every few minutes.
import { describe, expect, it } from 'vitest';
import type { DriftReportMessage } from '../../shared/drift.ts';
import { HostLock } from '../../relay/host-lock.ts';
import type { Logger } from '../../relay/log.ts';
import { DriftWatch } from '../../relay/watch/drift-watch.ts';

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
});
