// Faults, class "abusive relay messages": frames that are not JSON or no message of the protocol,
// frames over the size limit, details nested deeper than any reader can walk, ack/progress/result
// for another target's job, an unknown job or a job never sent to a relay, results replayed for
// finished jobs, a wrong attempt number. For every case: the exact answer the relay gets (or none),
// that no deployment of either target changed (status, reason, attempt, summary, steps), that the
// socket stays open, and that the next good message is still answered.
import { describe, expect, it } from 'vitest';
import { MAX_RELAY_FRAME_BYTES, type HubMessage } from '../../../shared/protocol.ts';
import { fakeSha } from '../../support/github-payloads.ts';
import { apiCall } from '../helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from '../relay-socket.ts';

/** Both targets' deployments with their steps, as the API shows them. */
async function everything(): Promise<string> {
  const out: unknown[] = [];
  for (const target of ['home', 'cabin']) {
    const { body } = await apiCall(`/deployments/${target}/history?limit=200`, 'viewer');
    for (const d of body.deployments as { id: string }[]) {
      const logs = await apiCall(`/deployments/${target}/logs?deploymentId=${d.id}`, 'viewer');
      expect(logs.status, JSON.stringify(logs.body).slice(0, 300)).toBe(200);
      out.push(logs.body.deployment, logs.body.steps);
    }
  }
  return JSON.stringify(out);
}

/** Probes are acks of jobs nobody queued, shaped as the edge makes ids (`dep_` and 18 base32 characters). */
const PROBE_PREFIX = 'dep_pr0bepr0';
const NEVER_QUEUED = 'dep_0000000000000never';
let probes = 0;
const isProbeAnswer = (m: HubMessage) => m.type === 'error' && (m.jobId ?? '').startsWith(PROBE_PREFIX);

/** An ack of a job that does not exist, answered `unknown_job`: proves the hub still reads and answers. */
async function probe(relay: TestRelay): Promise<void> {
  probes += 1;
  const jobId = `${PROBE_PREFIX}${String(probes).padStart(10, '0')}`;
  relay.send({ type: 'ack', jobId, attempt: 1 });
  await until(() => relay.received.some((m) => m.type === 'error' && m.jobId === jobId), `an answer to probe ${jobId}`);
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`waited in vain for ${what}`);
}

/**
 * Sends `frame` and returns what the hub said to it: waits for as many answers as the case expects,
 * then for one probe's round trip, so an answer beyond those shows up too. (The hub does not always
 * answer one socket's frames in the order they were sent, so a probe alone cannot close the list.)
 */
async function answersTo(relay: TestRelay, frame: unknown, expected: number): Promise<HubMessage[]> {
  const from = relay.received.length;
  const answers = () => relay.received.slice(from).filter((m) => !isProbeAnswer(m));
  if (frame instanceof Uint8Array) relay.socket.send(frame);
  else relay.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  await until(() => answers().length >= expected, `${expected} answer(s)`);
  await probe(relay);
  return answers();
}

async function deploy(target: string, seed: string): Promise<string> {
  const { status, body } = await apiCall(`/deployments/${target}/deploy`, 'operator', { body: { sha: fakeSha(seed) } });
  expect(status).toBe(202);
  return body.deployment.id;
}

const invalid = (message: RegExp) => [{ type: 'error', code: 'invalid_message', message: expect.stringMatching(message) }];
const nested = (depth: number) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown;

describe('abusive relay messages', () => {
  it('are answered as the protocol says, change no deployment, and leave the channel working', async () => {
    const relay = await connectRelay('home');
    await drainJobs(relay, 3000);
    let closed: { code: number } | null = null;
    relay.socket.addEventListener('close', (e) => {
      closed = { code: e.code };
    });

    // A finished job, a cancelled one, a running one with one step, one queued behind it that no
    // relay was ever sent, and a job of another target (cabin: no relay, so it stays queued).
    const finished = await deploy('home', 'abuse-finished');
    await relay.next('job');
    relay.send({ type: 'ack', jobId: finished, attempt: 1 });
    relay.send({ type: 'result', jobId: finished, status: 'succeeded', reason: null, summary: { filesChanged: ['automations.yaml'] } as never });
    await relay.next('recorded');
    const running = await deploy('home', 'abuse-running');
    await relay.next('job');
    relay.send({ type: 'ack', jobId: running, attempt: 1 });
    relay.send({ type: 'progress', jobId: running, step: 'fetch', status: 'started', message: 'fetch started', at: Date.now() });
    const cancelled = await deploy('home', 'abuse-cancelled');
    expect((await apiCall('/deployments/home/cancel', 'operator', { body: { deploymentId: cancelled } })).status).toBe(200);
    const queued = await deploy('home', 'abuse-queued');
    const elsewhere = await deploy('cabin', 'abuse-elsewhere');
    const progress = (jobId: string, extra: Record<string, unknown> = {}) => ({ type: 'progress', jobId, step: 'apply', status: 'started', message: 'apply started', at: Date.now(), ...extra });
    const result = (jobId: string, extra: Record<string, unknown> = {}) => ({ type: 'result', jobId, status: 'succeeded', reason: null, summary: {}, ...extra });
    expect(await answersTo(relay, '{"type":"ping"}', 1)).toEqual([{ type: 'pong' }]);

    const cases: [string, unknown, unknown[]][] = [
      // Not JSON, or not a message.
      ['an empty frame', '', invalid(/^invalid message: frame is not JSON$/)],
      ['a binary frame that is not UTF-8 JSON', new Uint8Array([0xff, 0xfe, 0x00, 0x7b]), invalid(/frame is not JSON/)],
      ['JSON null', 'null', invalid(/^invalid message: \(root\): /)],
      ['a JSON array', '[{"type":"ping"}]', invalid(/^invalid message: \(root\): /)],
      ['a JSON string', '"result"', invalid(/^invalid message: \(root\): /)],
      ['an object without a type', { jobId: running }, invalid(/^invalid message: type: /)],
      ['a type in capitals', { ...result(running), type: 'RESULT' }, invalid(/^invalid message: type: /)],
      ['a message only the hub sends: job', { type: 'job', jobId: queued, attempt: 1 }, invalid(/^invalid message: type: /)],
      ['a message only the hub sends: recorded', { type: 'recorded', jobId: running }, invalid(/^invalid message: type: /)],
      ['a type of __proto__', { type: '__proto__' }, invalid(/^invalid message: type: /)],
      ['a result with a status the protocol does not have', result(running, { status: 'superseded' }), invalid(/^invalid message: status: /)],
      ['a result whose job id is 65 characters', result(`dep_${'x'.repeat(61)}`), invalid(/^invalid message: jobId: /)],
      ['a result whose job id is a path', result('../../../config'), invalid(/^invalid message: jobId: a deployment id: dep_ and 18 base32 characters/)],
      ['a progress message of 4,001 characters', progress(running, { message: 'm'.repeat(4001) }), invalid(/^invalid message: message: /)],
      // Over the size limit, whatever it holds.
      ['a frame one byte over the limit', JSON.stringify(progress(running, { pad: 'x'.repeat(MAX_RELAY_FRAME_BYTES) })).slice(0, MAX_RELAY_FRAME_BYTES + 1), invalid(/^invalid message: a frame of 1048577 bytes is over the limit of 1048576$/)],
      ['a 2 MB progress', progress(running, { detail: { big: 'x'.repeat(2 * 1024 * 1024) } }), invalid(/over the limit of 1048576/)],
      ['a 2 MB binary frame', new Uint8Array(2 * 1024 * 1024).fill(0x20), invalid(/a frame of 2097152 bytes is over the limit/)],
      // Details a reader could not walk or would not want to.
      ['a progress whose detail nests 5,000 arrays', progress(running, { detail: { deep: nested(5000) } }), invalid(/^invalid message: detail\.deep: a string of at most 1000 characters, a number, a boolean or null$/)],
      ['a progress whose detail nests 400,000 arrays', `{"type":"progress","jobId":"${running}","step":"apply","status":"started","message":"m","at":1,"detail":{"d":${'['.repeat(400_000)}${']'.repeat(400_000)}}}`, invalid(/detail\.d: /)],
      ['a progress whose detail holds an object', progress(running, { detail: { heartbeat: { really: true } } }), invalid(/detail\.heartbeat: /)],
      ['a progress whose detail has 33 entries', progress(running, { detail: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }), invalid(/detail: at most 32 entries/)],
      ['a progress whose detail holds 1,001 characters', progress(running, { detail: { note: 'n'.repeat(1001) } }), invalid(/detail\.note: /)],
      // Another target's job, or none at all.
      ['an ack for another target\'s job', { type: 'ack', jobId: elsewhere, attempt: 1 }, [{ type: 'error', code: 'unknown_job', message: `no job ${elsewhere}`, jobId: elsewhere }]],
      ['a progress for another target\'s job', progress(elsewhere), [{ type: 'error', code: 'unknown_job', message: `no job ${elsewhere}`, jobId: elsewhere }]],
      ['a result for another target\'s job', result(elsewhere), [{ type: 'error', code: 'unknown_job', message: `no job ${elsewhere}`, jobId: elsewhere }]],
      ['a result for a job nobody queued', result(NEVER_QUEUED), [{ type: 'error', code: 'unknown_job', message: `no job ${NEVER_QUEUED}`, jobId: NEVER_QUEUED }]],
      ['a progress for a job nobody queued', progress(NEVER_QUEUED), [{ type: 'error', code: 'unknown_job', message: `no job ${NEVER_QUEUED}`, jobId: NEVER_QUEUED }]],
      // A job queued here but never sent to any relay.
      ['a result for a queued job no relay was sent', result(queued), [{ type: 'error', code: 'stale_attempt', message: `job ${queued} was never sent to a relay: it is queued`, jobId: queued }]],
      ['a progress for a queued job no relay was sent', progress(queued), [{ type: 'error', code: 'stale_attempt', message: expect.stringMatching(/never sent to a relay/), jobId: queued }]],
      // Replays: finished jobs keep their verdict, and the relay is told the result is recorded.
      ['a replayed result for a succeeded job, now saying failed', result(finished, { status: 'failed', reason: 'forged' }), [{ type: 'recorded', jobId: finished }]],
      ['a replayed result for a succeeded job, with other files', result(finished, { summary: { filesChanged: ['secrets.yaml'] } }), [{ type: 'recorded', jobId: finished }]],
      ['a result for a cancelled job', result(cancelled), [{ type: 'recorded', jobId: cancelled }]],
      ['a progress for a cancelled job', progress(cancelled), []],
      ['a progress for a finished job', progress(finished), []],
      // Wrong attempt numbers.
      ['a result for a finished job carrying another attempt number', result(finished, { attempt: 7, status: 'rolled_back', reason: 'forged' }), [{ type: 'recorded', jobId: finished }]],
      ['an ack of the running job with an attempt never sent', { type: 'ack', jobId: running, attempt: 9 }, []],
      ['an ack of the finished job with an attempt never sent', { type: 'ack', jobId: finished, attempt: 9 }, []],
      ['an ack with attempt 0', { type: 'ack', jobId: running, attempt: 0 }, invalid(/^invalid message: attempt: /)],
      ['an ack of a queued job no relay was sent', { type: 'ack', jobId: queued, attempt: 1 }, [{ type: 'cancel', jobId: queued, reason: 'attempt 1 is no longer current (deployment is queued)' }]],
    ];

    const before = await everything();
    for (const [name, frame, expected] of cases) {
      expect(await answersTo(relay, frame, expected.length), name).toEqual(expected);
      expect(await everything(), name).toBe(before);
      expect(closed, name).toBeNull();
    }

    // A relay that says hello again claiming the never-sent job as its in-flight one does not get it.
    expect(await answersTo(relay, { type: 'hello', v: 1, relayId: 'test-relay', version: '0.0.0', capabilities: [], inFlight: { jobId: queued, attempt: 1, step: 'apply' } }, 2)).toEqual([
      expect.objectContaining({ type: 'welcome' }),
      // The target's state (issue 18: a freeze, here none) follows every welcome.
      { type: 'target_state', freeze: null },
    ]);
    const afterHello = JSON.parse(await everything()) as { id?: string; status?: string }[];
    expect(afterHello.find((d) => d.id === queued)).toMatchObject({ status: 'queued', attempt: 0 });

    // Still working: the running job finishes, and the queued one is sent next and finishes too.
    const mark = relay.received.length;
    const after = () => relay.received.slice(mark);
    relay.send(JSON.stringify(result(running, { status: 'rolled_back', reason: 'check failed' })));
    await until(() => after().some((m) => m.type === 'recorded' && m.jobId === running), `recorded ${running}`);
    await until(() => after().some((m) => m.type === 'job' && m.jobId === queued), `the job ${queued}`);
    expect(after().find((m) => m.type === 'job')).toMatchObject({ jobId: queued, attempt: 1 });
    relay.send({ type: 'ack', jobId: queued, attempt: 1 });
    relay.send(JSON.stringify(result(queued)));
    await until(() => after().some((m) => m.type === 'recorded' && m.jobId === queued), `recorded ${queued}`);
    expect(after().filter((m) => m.type === 'error' && !isProbeAnswer(m))).toEqual([]);
    const { body } = await apiCall('/deployments/home/history?limit=10', 'viewer');
    const byId = new Map((body.deployments as { id: string }[]).map((d) => [d.id, d]));
    expect(byId.get(finished)).toMatchObject({ status: 'succeeded', reason: null, summary: expect.objectContaining({ filesChanged: ['automations.yaml'] }) });
    expect(byId.get(running)).toMatchObject({ status: 'rolled_back', reason: 'check failed' });
    expect(byId.get(cancelled)).toMatchObject({ status: 'cancelled' });
    expect(byId.get(queued)).toMatchObject({ status: 'succeeded' });
    expect((await apiCall(`/deployments/cabin/logs?deploymentId=${elsewhere}`, 'viewer')).body.deployment).toMatchObject({ status: 'queued', attempt: 0 });
    expect(closed).toBeNull();
    relay.close();
  }, 120_000);
});
