// Faults, class "abusive relay messages", for the messages issues 18 and 20 added: generated
// garbage (fast-check) in `alerted`, `planned`, `progress` with a step `span`, and `result` with the
// status `waiting_for_window`, from a connected relay. For every frame: the answer is the one the
// protocol gives (`invalid_message` for what does not parse, nothing for an alert or plan the hub
// does not know, `unknown_job` or `recorded` for a result), no deployment, plan, outbox row or step
// span changes, a span in another trace or under another parent is never stored, and the hub still
// works: the running job and a new one complete afterwards.
import { env, runInDurableObject } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ID_ALPHABET } from '../../../shared/ids.ts';
import { RELAY_CAPABILITIES, RelayMessage, type HubMessage, type JobMessage } from '../../../shared/protocol.ts';
import { parseTraceparent } from '../../../shared/trace-context.ts';
import { fakeSha } from '../../support/github-payloads.ts';
import { pullRequestPayload } from '../../support/pull-request-payload.ts';
import { apiCall, deliver } from '../helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from '../relay-socket.ts';

const hub = () => env.TARGET_HUB.get(env.TARGET_HUB.idFromName('home'));
const NEVER_QUEUED = 'dep_0000000000000never';
const PROBE_PREFIX = 'dep_pr0bepr1';
let probes = 0;
const isProbeAnswer = (m: HubMessage) => m.type === 'error' && (m.jobId ?? '').startsWith(PROBE_PREFIX);

const TABLES = ['deployments', 'steps', 'pull_plans', 'outbox', 'trace_step_spans'] as const;
type HubState = Record<(typeof TABLES)[number], Record<string, unknown>[]>;

/** The hub's state a relay message could change: deployments, steps, plans, the outbox, step spans. */
async function state(): Promise<HubState> {
  return runInDurableObject(hub(), (_instance, s) => {
    const tables = (s.storage.sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table'`).toArray() as { name: string }[]).map((t) => t.name);
    const out = {} as HubState;
    for (const table of TABLES) {
      out[table] = tables.includes(table) ? s.storage.sql.exec(`SELECT * FROM ${table}`).toArray() : [];
    }
    return out;
  });
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`waited in vain for ${what}`);
}

/** Sends `frame`, waits for `expected` answers and a probe's round trip, and returns every answer but the probe's. */
async function answersTo(relay: TestRelay, frame: string, expected: number): Promise<HubMessage[]> {
  const from = relay.received.length;
  const answers = () => relay.received.slice(from).filter((m) => !isProbeAnswer(m));
  relay.send(frame);
  await until(() => answers().length >= expected, `${expected} answer(s) to ${frame.slice(0, 200)}`);
  probes += 1;
  const jobId = `${PROBE_PREFIX}${String(probes).padStart(10, '0')}`;
  relay.send({ type: 'ack', jobId, attempt: 1 });
  await until(() => relay.received.some((m) => m.type === 'error' && m.jobId === jobId), `an answer to probe ${jobId}`);
  return answers();
}

const id = (prefix: string) => fc.string({ unit: fc.constantFrom(...ID_ALPHABET), minLength: 18, maxLength: 18 }).map((s) => `${prefix}_${s}`);
const garbage = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 4 }),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', null, -1, 1.5, 2 ** 53, 'x'.repeat(1001), '../../etc/passwd', 'secrets.yaml', '\u0000', 'A'.repeat(32), '0'.repeat(32), '0'.repeat(16)),
);
/** A valid message with up to two fields replaced by garbage or taken out. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>, fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const change = fc.tuple(fc.constantFrom(...fields), fc.oneof(garbage, fc.constant(undefined)));
  return fc.tuple(valid, fc.array(change, { maxLength: 2 })).map(([message, changes]) => {
    const out: Record<string, unknown> = structuredClone(message);
    for (const [field, value] of changes) {
      const [head, tail] = field.split('.') as [string, string | undefined];
      if (tail && out[head] && typeof out[head] === 'object') (out[head] as Record<string, unknown>)[tail] = value;
      else out[head] = value;
    }
    return out;
  });
}

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

describe('generated garbage in the relay messages of issues 18 and 20', () => {
  it('is answered as the protocol says, changes no deployment, plan, outbox row or span, and the hub still works', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, ['deploy', 'rollback', RELAY_CAPABILITIES.alerts, RELAY_CAPABILITIES.pullPlans, RELAY_CAPABILITIES.restartWindow]);
    await drainJobs(relay, 3000);
    let closed = false;
    relay.socket.addEventListener('close', () => {
      closed = true;
    });
    // A finished job, a running one (its trace context known), and a pull request's plan queued behind it.
    const deploy = async (seed: string) => (await apiCall('/deployments/home/deploy', 'operator', { body: { sha: fakeSha(seed) } })).body.deployment.id as string;
    const finished = await deploy('garbage-finished');
    await relay.next('job');
    relay.send({ type: 'ack', jobId: finished, attempt: 1 });
    relay.send({ type: 'result', jobId: finished, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');
    const running = await deploy('garbage-running');
    const job = (await relay.next('job')) as JobMessage;
    relay.send({ type: 'ack', jobId: running, attempt: job.attempt });
    const context = parseTraceparent(job.traceparent!)!;
    relay.send({ type: 'progress', jobId: running, step: 'fetch', status: 'started', message: 'fetch started', at: Date.now() });
    const planned = await deliver({ event: 'pull_request', payload: pullRequestPayload({ action: 'opened', number: 9100, headSha: fakeSha('garbage-plan') }) });
    expect(planned.status).toBe(202);
    const planId = planned.body.plans[0].planId as string;
    expect(await answersTo(relay, '{"type":"ping"}', 1)).toEqual([{ type: 'pong' }]);

    const before = await state();
    const invalid = [{ type: 'error', code: 'invalid_message', message: expect.stringMatching(/^invalid message: /) }];
    /** What the hub answers a frame that does not change anything. */
    const expectedAnswer = (frame: Record<string, unknown>): unknown[] => {
      const parsed = RelayMessage.safeParse(frame);
      if (!parsed.success) return invalid;
      const m = parsed.data;
      if (m.type === 'result') return m.jobId === finished ? [{ type: 'recorded', jobId: finished }] : [{ type: 'error', code: 'unknown_job', message: `no job ${m.jobId}`, jobId: m.jobId }];
      return [];
    };
    const tally = { invalid: 0, quiet: 0, answered: 0 };
    const check = async (frame: Record<string, unknown>) => {
      const expected = expectedAnswer(frame);
      tally[expected === invalid ? 'invalid' : expected.length ? 'answered' : 'quiet'] += 1;
      expect(await answersTo(relay, JSON.stringify(frame), expected.length)).toEqual(expected);
      expect(await state(), JSON.stringify(frame).slice(0, 300)).toEqual(before);
      expect(closed).toBe(false);
    };

    // `alerted` for alerts the hub never sent, or garbled.
    const alerted = fc.record({ type: fc.constant('alerted'), alertId: id('alr'), ok: fc.boolean(), detail: fc.string({ maxLength: 40 }) });
    await fc.assert(fc.asyncProperty(mutated(alerted, ['type', 'alertId', 'ok', 'detail']), check), { numRuns: 40 });

    // `planned` for the plan still queued (never sent, so its answer is no answer), an unknown one, or garbled.
    const path = fc.constantFrom('automations.yaml', 'packages/a.yaml', 'scripts.yaml');
    const plannedFrame = fc.record({
      type: fc.constant('planned'), planId: fc.oneof(fc.constant(planId), id('pln')), outcome: fc.constantFrom('planned', 'refused', 'failed'),
      reason: fc.option(fc.string({ maxLength: 40 })), toWrite: fc.array(path, { maxLength: 3 }), toWriteCount: fc.nat(5), toDelete: fc.array(path, { maxLength: 2 }), toDeleteCount: fc.nat(5),
      activation: fc.constantFrom('none', 'reload', 'restart'), activationReasons: fc.constant([]), reloadDomains: fc.array(fc.constantFrom('automation', 'script'), { maxLength: 2 }),
      conflicts: fc.constant([]), conflictsCount: fc.nat(3), merged: fc.constant([]), refusals: fc.constant([]), refusalsCount: fc.nat(3), at: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(mutated(plannedFrame, ['type', 'planId', 'outcome', 'reason', 'toWrite', 'toWriteCount', 'activation', 'activationReasons', 'conflicts', 'refusals', 'at']), check),
      { numRuns: 40 },
    );

    // `result` replayed for the finished job or sent for none, `waiting_for_window` among its statuses.
    const result = fc.record({
      type: fc.constant('result'), jobId: fc.constantFrom(finished, NEVER_QUEUED), status: fc.constantFrom('waiting_for_window', 'waiting_for_window', 'succeeded', 'failed', 'rolled_back'),
      reason: fc.option(fc.string({ maxLength: 40 })), summary: fc.constant({ restartHeld: true, filesChanged: ['configuration.yaml'], activation: 'restart' }),
    });
    await fc.assert(fc.asyncProperty(mutated(result, ['status', 'reason', 'summary', 'summary.restartHeld', 'summary.activation', 'jobId']), check), { numRuns: 30 });
    expect(tally.invalid * tally.quiet * tally.answered, JSON.stringify(tally)).toBeGreaterThan(0);

    // A step's span in another trace, or under a parent that is not the job's, is never stored; garbled spans are refused.
    const span = fc.record({
      traceId: fc.oneof(hex(32), fc.constant(context.traceId)),
      spanId: hex(16),
      parentSpanId: fc.oneof(hex(16), fc.constant(context.parentSpanId)),
    }).filter((s) => s.traceId !== context.traceId || s.parentSpanId !== context.parentSpanId);
    const progress = fc.record({ type: fc.constant('progress'), jobId: fc.constant(running), step: fc.constantFrom('plan', 'apply', 'check'), status: fc.constantFrom('started', 'succeeded'), message: fc.string({ maxLength: 40 }), at: fc.nat(), span });
    await fc.assert(
      fc.asyncProperty(mutated(progress, ['span', 'span.traceId', 'span.spanId', 'span.parentSpanId', 'jobId']), async (frame) => {
        const parsed = RelayMessage.safeParse(frame);
        const answers = await answersTo(relay, JSON.stringify(frame), parsed.success && (frame.jobId === running) ? 0 : 1);
        if (!parsed.success) expect(answers).toEqual(invalid);
        const now = await state();
        const spanId = (frame.span as { spanId?: unknown } | undefined)?.spanId;
        expect(now.trace_step_spans.filter((r) => r.span_id === spanId), JSON.stringify(frame)).toEqual([]);
        expect(now.trace_step_spans).toEqual(before.trace_step_spans);
        expect(now.deployments.find((d) => d.id === running)).toMatchObject({ status: 'running' });
        expect(now.pull_plans).toEqual(before.pull_plans);
        expect(now.outbox).toEqual(before.outbox);
      }),
      { numRuns: 40 },
    );
    // The job's own span is stored: the property above did not pass by storing nothing at all.
    relay.send({ type: 'progress', jobId: running, step: 'apply', status: 'started', message: 'apply started', at: Date.now(), span: { traceId: context.traceId, spanId: 'a1a1a1a1a1a1a1a1', parentSpanId: context.parentSpanId } });
    await answersTo(relay, '{"type":"ping"}', 1);
    expect((await state()).trace_step_spans.map((r) => r.span_id)).toContain('a1a1a1a1a1a1a1a1');

    // Still working: the running job finishes, the plan goes to the relay and is answered, and a new deploy completes.
    const mark = relay.received.length;
    const after = () => relay.received.slice(mark);
    relay.send({ type: 'result', jobId: running, status: 'succeeded', reason: null, summary: {} as never });
    await until(() => after().some((m) => m.type === 'recorded' && m.jobId === running), `recorded ${running}`);
    await until(() => after().some((m) => m.type === 'plan'), 'the queued plan');
    expect(after().find((m) => m.type === 'plan')).toMatchObject({ planId, pullNumber: 9100 });
    relay.send({ type: 'planned', planId, outcome: 'planned', reason: null, toWrite: ['automations.yaml'], toWriteCount: 1, toDelete: [], toDeleteCount: 0, activation: 'reload', activationReasons: [], reloadDomains: ['automation'], conflicts: [], conflictsCount: 0, merged: [], refusals: [], refusalsCount: 0, at: Date.now() });
    const next = await deploy('garbage-after');
    await until(() => after().some((m) => m.type === 'job' && m.jobId === next), `the job ${next}`);
    relay.send({ type: 'ack', jobId: next, attempt: 1 });
    relay.send({ type: 'result', jobId: next, status: 'succeeded', reason: null, summary: {} as never });
    await until(() => after().some((m) => m.type === 'recorded' && m.jobId === next), `recorded ${next}`);
    expect(after().filter((m) => m.type === 'error' && !isProbeAnswer(m))).toEqual([]);
    const { body } = await apiCall('/deployments/home/history?limit=10', 'viewer');
    const byId = new Map((body.deployments as { id: string }[]).map((d) => [d.id, d]));
    expect(byId.get(finished)).toMatchObject({ status: 'succeeded' });
    expect(byId.get(running)).toMatchObject({ status: 'succeeded' });
    expect(byId.get(next)).toMatchObject({ status: 'succeeded' });
    expect((await apiCall('/deployments/home/pull-plans', 'viewer')).body.plans.find((p: { id: string }) => p.id === planId)).toMatchObject({ status: 'planned' });
    expect(closed).toBe(false);
    relay.close();
  }, 120_000);
});
