// The relay's half of a deployment's trace: with the job's traceparent, every run of a step is a span
// under the job's span, named on its started event and on the event that ends it; without one
// (an older edge, or a traceparent this relay cannot read) no span is named at all.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { StepRunner } from '../../relay/step-runner.ts';
import { ProgressMessage, ResultMessage, type JobMessage } from '../../shared/protocol.ts';
import { testJobId } from '../support/wire-ids.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const JOB_SPAN = '00f067aa0ba902b7';
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-spans-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let lastRunner: StepRunner | null = null;

async function run(traceparent: string | undefined): Promise<ProgressMessage[]> {
  const job: JobMessage = { type: 'job', jobId: testJobId(7), attempt: 1, kind: 'deploy', target: 'home', sha: 'a'.repeat(40), ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop', requestedBy: 'ada' };
  if (traceparent) job.traceparent = traceparent;
  const journal = new Journal(dir);
  await journal.open();
  const sent: ProgressMessage[] = [];
  // Every message goes through the wire schema, as the edge will read it.
  const steps = new StepRunner(job, journal, (m) => sent.push(ProgressMessage.parse(JSON.parse(JSON.stringify(m)))), quiet, {}, Date.now());
  await steps.step('fetch', async () => 'ok');
  steps.heartbeat('still planning');
  await steps.step('plan', async () => 'ok');
  steps.skip('drift', 'no drift check asked');
  await expect(steps.step('apply', async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
  // A step run again (after a retry inside the pipeline) is a span of its own.
  await steps.step('apply', async () => 'ok');
  lastRunner = steps;
  return sent;
}

describe('step spans', () => {
  it('name each run of a step under the job\'s span, on its start and its end, with a fresh W3C span id', async () => {
    const sent = await run(`00-${TRACE}-${JOB_SPAN}-01`);
    const named = sent.filter((m) => m.span);
    expect(sent.filter((m) => m.detail?.heartbeat).every((m) => m.span === undefined)).toBe(true);
    for (const m of named) expect(m.span).toMatchObject({ traceId: TRACE, parentSpanId: JOB_SPAN, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const runs = named.map((m) => [m.step, m.status, m.span!.spanId] as const);
    expect(runs.map(([step, status]) => `${step} ${status}`)).toEqual([
      'fetch started', 'fetch succeeded', 'plan started', 'plan succeeded', 'drift skipped', 'apply started', 'apply failed', 'apply started', 'apply succeeded',
    ]);
    // Start and end of one run share an id; every run has its own.
    const ids = runs.map(([, , id]) => id);
    expect([ids[0] === ids[1], ids[2] === ids[3], ids[5] === ids[6], ids[7] === ids[8]]).toEqual([true, true, true, true]);
    expect(new Set([ids[0], ids[2], ids[4], ids[5], ids[7]]).size).toBe(5);
    // The result carries the event that ended each span again (events of a socket may be handled out of order).
    const ends = lastRunner!.spanEnds;
    expect(ends).toEqual(sent.filter((m) => m.span && m.status !== 'started'));
    expect(ResultMessage.parse({ type: 'result', jobId: testJobId(7), status: 'succeeded', reason: null, summary: {}, stepSpans: ends }).stepSpans).toHaveLength(5);
  });

  it('are not named without trace context, or with one that is not version 00 with real ids', async () => {
    expect((await run(undefined)).some((m) => m.span)).toBe(false);
    expect((await run(`00-${'0'.repeat(32)}-${JOB_SPAN}-01`)).some((m) => m.span)).toBe(false);
  });
});
