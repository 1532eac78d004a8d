// Faults, class "a relay that talks too much": progress frames as many and as big as the protocol
// lets through, sent by a relay that holds the token, over the real relay socket in workerd. Each
// deployment's log keeps its first events and its latest within a budget of count and bytes, and
// the API and the status page say how many were dropped; heartbeats update the running step's row.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProgressMessage } from '../../../shared/protocol.ts';
import { STEP_LOG_BUDGET, StepLog, type StepLogBudget } from '../../../worker/hub/step-log.ts';
import { byteSize } from '../../../worker/ui/format.ts';
import { fakeSha } from '../../support/github-payloads.ts';
import { apiCall, call, TOKENS } from '../helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from '../relay-socket.ts';
import { signIn } from '../status-page.ts';

type Step = { step: string; status: string; message: string; at: number; durationMs: number | null; detail: Record<string, unknown> | null };
type Logs = { deployment: { id: string; status: string }; steps: Step[]; droppedSteps: { events: number; bytes: number; after: number } | null };

const MAX_LOG_BYTES = STEP_LOG_BUDGET.headBytes + STEP_LOG_BUDGET.tailBytes;
const MAX_LOG_EVENTS = STEP_LOG_BUDGET.headEvents + STEP_LOG_BUDGET.tailEvents;

/** What a row of the log holds: its message and its detail, as stored. */
function bytesOf(step: Step): number {
  const encoder = new TextEncoder();
  return encoder.encode(step.message).byteLength + (step.detail ? encoder.encode(JSON.stringify(step.detail)).byteLength : 0);
}

async function logs(target: string, id: string): Promise<Logs> {
  const { status, body } = await apiCall(`/deployments/${target}/logs?deploymentId=${id}`, 'viewer');
  expect(status).toBe(200);
  return body as Logs;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 600; i += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`waited in vain for ${what}`);
}

/** A job for `target` taken by the relay: deployed by an operator, handed over, acknowledged. */
async function runningJob(relay: TestRelay, target: string, seed: string): Promise<string> {
  await drainJobs(relay);
  const { body } = await apiCall(`/deployments/${target}/deploy`, 'operator', { body: { sha: fakeSha(seed) } });
  const job = await relay.next('job');
  expect(job).toMatchObject({ jobId: body.deployment.id });
  relay.send({ type: 'ack', jobId: body.deployment.id, attempt: 1 });
  return body.deployment.id;
}

/** As big as the protocol lets a progress frame be: a 4,000-character message and 32 details of 1,000 characters (36 KB). */
function hugeProgress(jobId: string, n: number): ProgressMessage {
  const detail: Record<string, string> = {};
  for (let k = 0; k < 32; k += 1) detail[`k${String(k).padStart(2, '0')}`] = `${n}:${k}:`.padEnd(1000, 'x');
  return { type: 'progress', jobId, step: 'apply', status: 'started', message: `frame ${n} `.padEnd(4000, 'y'), at: 1_800_000_000_000 + n, detail };
}

function progress(jobId: string, step: ProgressMessage['step'], status: ProgressMessage['status'], message: string, extra: Partial<ProgressMessage> = {}): ProgressMessage {
  return { type: 'progress', jobId, step, status, message, at: Date.now(), ...extra };
}

describe('a relay that sends too much progress', () => {
  it('400 progress frames of 36 KB leave a log under the cap with the first and last intact, and the API and the page say how many were dropped', async () => {
    const relay = await connectRelay('home');
    const id = await runningJob(relay, 'home', 'chatty-relay');
    const frameBytes = JSON.stringify(hugeProgress(id, 0)).length;
    expect(frameBytes).toBeGreaterThan(36_000);
    // The hub may handle one socket's frames out of order (they are events, not a stream), so the
    // first and the last frames are sent once all before them are handled.
    const handled = (n: number) => until(() => logs('home', id), (l) => l.steps.length + (l.droppedSteps?.events ?? 0) === n, `${n} frames handled`);
    relay.send(hugeProgress(id, 0));
    await handled(1);
    for (let n = 1; n < 399; n += 1) relay.send(hugeProgress(id, n));
    await handled(399);
    relay.send(hugeProgress(id, 399));
    const log = await handled(400);

    const kept = log.steps.reduce((sum, s) => sum + bytesOf(s), 0);
    expect(kept).toBeLessThanOrEqual(MAX_LOG_BYTES);
    expect(log.steps.length).toBeLessThanOrEqual(MAX_LOG_EVENTS);
    expect(log.steps[0]).toMatchObject({ step: 'apply', status: 'started', message: hugeProgress(id, 0).message, detail: hugeProgress(id, 0).detail, at: hugeProgress(id, 0).at });
    expect(log.steps.at(-1)).toMatchObject({ message: hugeProgress(id, 399).message, detail: hugeProgress(id, 399).detail, at: hugeProgress(id, 399).at });
    // The gap is where the API says: after the first events kept, before the latest.
    const after = log.droppedSteps!.after;
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after).toBeLessThan(log.steps.length);
    const dropped = 400 - log.steps.length;
    expect(log.droppedSteps).toEqual({ events: dropped, bytes: dropped * bytesOf(log.steps[0]!), after });
    expect(JSON.stringify(log).length).toBeLessThan(MAX_LOG_BYTES + 64 * 1024);

    const vera = await signIn(TOKENS.viewer);
    const page = await (await call(`/targets/home?deployment=${id}`, { headers: { Cookie: vera.cookie } })).text();
    expect(page.length).toBeLessThan(MAX_LOG_BYTES + 128 * 1024);
    expect(page).toContain(`… ${dropped} step events (${byteSize(dropped * bytesOf(log.steps[0]!))}) dropped: the relay sent more than a deployment&#39;s log keeps …`);
    expect(page).toMatch(new RegExp(`Log: ${log.steps.length} step events for <span class="sha">[0-9a-f]{7}</span>, ${dropped} more dropped`));

    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });

  it('keeps every event of a deploy as big as real ones get, and drops nothing', async () => {
    const relay = await connectRelay('cabin');
    const id = await runningJob(relay, 'cabin', 'ordinary-but-long');
    const sent: ProgressMessage[] = [];
    // Every step of a deploy that fails its check and rolls back, twice over (a relay restarted
    // mid-job goes through them again), each ending with a message as long as the relay sends.
    for (let round = 0; round < 2; round += 1) {
      for (const step of ['fetch', 'plan', 'drift', 'backup', 'apply', 'check', 'activate', 'verify', 'record', 'rollback'] as const) {
        sent.push(progress(id, step, 'started', `${step} started`));
        sent.push(progress(id, step, step === 'check' ? 'failed' : 'succeeded', `${step}: `.padEnd(4000, 'e'), { durationMs: 1200 }));
      }
    }
    for (const m of sent) relay.send(m);
    const log = await until(() => logs('cabin', id), (l) => l.steps.length >= sent.length, 'every event kept');
    expect(log.droppedSteps).toBeNull();
    // Every one of them (the hub may handle a socket's frames in another order than they were sent).
    const key = (e: { step: string; status: string; message: string }) => `${e.step} ${e.status} ${e.message.length}`;
    expect(log.steps.map(key).sort()).toEqual(sent.map(key).sort());
    relay.send({ type: 'result', jobId: id, status: 'rolled_back', reason: 'check failed', summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });
});

describe('heartbeats', () => {
  it('keep one row per running step, the latest, shown as the step\'s message; a beat after the step ended is not kept', async () => {
    const relay = await connectRelay('dispatched', 'gated-relay-token');
    const id = await runningJob(relay, 'dispatched', 'heartbeats');
    // One frame at a time: the hub may handle a socket's frames in another order than they were sent.
    const sendAndSee = async (m: ProgressMessage, seen: (l: Logs) => boolean) => {
      relay.send(m);
      return until(() => logs('dispatched', id), seen, m.message);
    };
    await sendAndSee(progress(id, 'apply', 'started', 'apply started'), (l) => l.steps.length === 1);
    let during: Logs | null = null;
    for (let n = 1; n <= 10; n += 1) {
      const message = `apply: ${n * 500} of 5000 files in place`;
      during = await sendAndSee(progress(id, 'apply', 'started', message, { detail: { heartbeat: true } }), (l) => l.steps.at(-1)?.message === message);
      expect(during.steps.map((s) => s.message)).toEqual(['apply started', message]);
    }
    during = during!;
    expect(during.deployment.status).toBe('running');
    const vera = await signIn(TOKENS.viewer);
    const page = await (await call(`/targets/dispatched?deployment=${id}`, { headers: { Cookie: vera.cookie } })).text();
    expect(page).toMatch(/<li data-step="apply" data-status="running">[\s\S]*?<span class="step-message small">apply: 5000 of 5000 files in place<\/span>/);

    await sendAndSee(progress(id, 'apply', 'succeeded', 'apply: 5000 files in place', { durationMs: 90_000 }), (l) => l.steps.length === 3);
    relay.send(progress(id, 'apply', 'started', 'still on apply', { detail: { heartbeat: true } }));
    await sendAndSee(progress(id, 'check', 'started', 'check started'), (l) => l.steps.some((s) => s.message === 'check started'));
    const after = await sendAndSee(progress(id, 'check', 'started', 'waiting for Home Assistant (30 s)', { detail: { heartbeat: true } }), (l) => l.steps.at(-1)?.message === 'waiting for Home Assistant (30 s)');
    expect(after.steps.map((s) => `${s.step} ${s.status}: ${s.message}`)).toEqual([
      'apply started: apply started',
      'apply started: apply: 5000 of 5000 files in place',
      'apply succeeded: apply: 5000 files in place',
      'check started: check started',
      'check started: waiting for Home Assistant (30 s)',
    ]);
    expect(after.droppedSteps).toBeNull();
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    relay.close();
  });
});

describe('the step log, generated', () => {
  /** A progress message as a relay could send it: any step and status, heartbeat or not, any size. */
  const message = fc.record({
    step: fc.constantFrom(...(['fetch', 'plan', 'apply', 'check', 'rollback'] as const)),
    status: fc.constantFrom(...(['started', 'succeeded', 'failed', 'skipped'] as const)),
    heartbeat: fc.boolean(),
    text: fc.string({ unit: fc.constantFrom('a', 'é', '€', '𝄞', ' '), maxLength: 700 }),
    detail: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 200 }), { maxKeys: 4 }), { nil: undefined }),
  });
  /** Small budgets, so a few dozen messages cross them often. */
  const budget: StepLogBudget = { headEvents: 3, headBytes: 1500, tailEvents: 5, tailBytes: 3000 };
  const encoder = new TextEncoder();
  const size = (m: { message: string; detail?: Record<string, unknown> | undefined | null }) =>
    encoder.encode(m.message).byteLength + (m.detail ? encoder.encode(JSON.stringify(m.detail)).byteLength : 0);

  it('for any run of progress messages: the first events and an unbroken run of the latest, within budget, every other one counted as dropped', async () => {
    let run = 0;
    await runInDurableObject(env.TARGET_HUB.get(env.TARGET_HUB.idFromName('step-log-generated')), async (_instance, state) => {
      fc.assert(
        fc.property(fc.array(message, { minLength: 1, maxLength: 60 }), (generated) => {
          run += 1;
          const deployment = `dep_generated_${run}`;
          const log = new StepLog(state.storage.sql, budget);
          // What the log would hold with no budget: heartbeats folded into the running step's row.
          const model: ProgressMessage[] = [];
          generated.forEach((g, i) => {
            const m: ProgressMessage = { type: 'progress', jobId: deployment, step: g.step, status: g.heartbeat ? 'started' : g.status, message: g.text, at: i };
            const detail = g.heartbeat ? { ...g.detail, heartbeat: true } : g.detail;
            if (detail) m.detail = detail;
            log.record(deployment, m);
            if (g.heartbeat) {
              const last = model.at(-1);
              if (last && (last.step !== m.step || last.status !== 'started')) return;
              if (last?.detail?.heartbeat === true) model.pop();
            }
            model.push(m);
          });
          const kept = log.events(deployment);
          const dropped = log.dropped(deployment);
          const after = dropped?.after ?? kept.length;
          const latest = kept.length - after;
          const expected = [...model.slice(0, after), ...model.slice(model.length - latest)];
          expect(kept.map((e) => [e.step, e.status, e.message, e.at])).toEqual(expected.map((m) => [m.step, m.status, m.message, m.at]));
          const lost = model.slice(after, model.length - latest);
          expect(dropped).toEqual(lost.length ? { events: lost.length, bytes: lost.reduce((sum, m) => sum + size(m), 0), after } : null);
          expect(kept.length).toBeLessThanOrEqual(budget.headEvents + budget.tailEvents);
          if (!dropped) return;
          // Within budget: the head unless it is the one first event, the window unless it is one event.
          const head = kept.slice(0, after);
          const tail = kept.slice(after);
          expect(head.length).toBeLessThanOrEqual(budget.headEvents);
          if (head.length > 1) expect(head.reduce((sum, e) => sum + size(e), 0)).toBeLessThanOrEqual(budget.headBytes);
          expect(tail.length).toBeLessThanOrEqual(budget.tailEvents);
          if (tail.length > 1) expect(tail.reduce((sum, e) => sum + size(e), 0)).toBeLessThanOrEqual(budget.tailBytes);
        }),
        { numRuns: 300 },
      );
    });
  });
});
