// Traces inside workerd: the job a hub hands the relay carries the deployment's traceparent, the
// spans a relay reports in progress join the trace only where they belong, and a deployment that
// ends queues exactly one OTLP export in the outbox with the span tree a collector will get. The
// pure parts (ids, OTLP_HEADERS, the OTLP JSON encoding) against fixed values.
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { TRACEPARENT_PATTERN, type JobMessage } from '../../shared/protocol.ts';
import { parseTraceparent } from '../../shared/trace-context.ts';
import type { Env } from '../../worker/env.ts';
import { otlpHeaders } from '../../worker/outward/otlp.ts';
import { attributes, unixNano, type OtlpSpan, type OtlpTraceRequest } from '../../worker/traces/otlp-json.ts';
import { dispatchSpanIdOf, edgeSpanIdOf, fnv1a64Hex, traceIdOf, traceparentOf } from '../../worker/traces/trace-ids.ts';
import { fakeSha, pushPayload } from '../support/github-payloads.ts';
import { deliver } from './helpers.ts';
import { connectRelay, drainJobs } from './relay-socket.ts';

const hubOf = (target: string) => env.TARGET_HUB.get(env.TARGET_HUB.idFromName(target));
const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;

describe('a deployment as a trace', () => {
  it('dispatch sends the traceparent, the relay\'s step spans join under it, and the end queues one OTLP export', async () => {
    // This hub exports traces while the test runs: the endpoint is a port nothing listens on, and the
    // export is taken out of the outbox at the end, so no other test sees it.
    await runInDurableObject(hubOf('home'), (instance) => {
      (instance as unknown as { env: Env }).env.OTLP_ENDPOINT = 'http://127.0.0.1:9/v1/traces';
    });
    const relay = await connectRelay('home');
    await drainJobs(relay);
    const sha = fakeSha('traced-deploy');
    const { body } = await deliver({ event: 'push', payload: pushPayload({ after: sha, message: 'Traced deploy' }) });
    const id = body.deployments[0].deploymentId as string;
    const job = (await relay.next('job', 15_000)) as JobMessage;
    expect(job.jobId).toBe(id);
    expect(job.traceparent).toMatch(TRACEPARENT_PATTERN);
    const context = parseTraceparent(job.traceparent!)!;
    expect(context).toEqual({ traceId: traceIdOf('home', id), parentSpanId: dispatchSpanIdOf('home', id, job.attempt), sampled: true });

    relay.send({ type: 'ack', jobId: id, attempt: job.attempt });
    const t0 = Date.now();
    const fetchSpan = { traceId: context.traceId, spanId: 'a1a1a1a1a1a1a1a1', parentSpanId: context.parentSpanId };
    const applySpan = { traceId: context.traceId, spanId: 'b2b2b2b2b2b2b2b2', parentSpanId: context.parentSpanId };
    relay.send({ type: 'progress', jobId: id, step: 'fetch', status: 'started', message: 'fetch started', at: t0, span: fetchSpan });
    relay.send({ type: 'progress', jobId: id, step: 'fetch', status: 'started', message: 'still fetching', at: t0 + 5, detail: { heartbeat: true } });
    relay.send({ type: 'progress', jobId: id, step: 'fetch', status: 'succeeded', message: 'fetched', at: t0 + 10, durationMs: 10, span: fetchSpan });
    // A span in another trace, or under a span that is not this job's, is no part of this one.
    relay.send({ type: 'progress', jobId: id, step: 'plan', status: 'started', message: 'plan started', at: t0 + 11, span: { ...fetchSpan, spanId: 'c3c3c3c3c3c3c3c3', traceId: 'd4'.repeat(16) } });
    relay.send({ type: 'progress', jobId: id, step: 'plan', status: 'started', message: 'plan started', at: t0 + 11, span: { ...fetchSpan, spanId: 'e5e5e5e5e5e5e5e5', parentSpanId: 'f6'.repeat(8) } });
    // A step with no span (an older relay's) is simply not in the trace.
    relay.send({ type: 'progress', jobId: id, step: 'plan', status: 'succeeded', message: 'planned', at: t0 + 12, durationMs: 1 });
    // The result carries each step span's end again, as the relay sends it: a socket's events are not
    // always handled in the order sent, so here apply's own events come after the result, and the
    // trace (built when the deployment ends) still has its span.
    const fetchEnd = { type: 'progress', jobId: id, step: 'fetch', status: 'succeeded', message: 'fetched', at: t0 + 10, durationMs: 10, span: fetchSpan } as const;
    const applyEnd = { type: 'progress', jobId: id, step: 'apply', status: 'succeeded', message: '1 file written', at: t0 + 20, durationMs: 7, span: applySpan } as const;
    relay.send({ type: 'result', jobId: id, status: 'succeeded', reason: null, summary: { filesChanged: ['automations.yaml'], activation: 'reload', reloadedDomains: ['automation'] } as never, stepSpans: [fetchEnd, applyEnd] });
    await relay.next('recorded', 15_000);
    relay.send({ type: 'progress', jobId: id, step: 'apply', status: 'started', message: 'apply started', at: t0 + 13, span: applySpan });
    relay.send(applyEnd);

    const exports = await runInDurableObject(hubOf('home'), (instance, state) => {
      (instance as unknown as { env: Env }).env.OTLP_ENDPOINT = undefined;
      const rows = state.storage.sql.exec(`SELECT * FROM outbox WHERE channel = 'otlp' AND deployment_id = ?`, id).toArray();
      state.storage.sql.exec(`DELETE FROM outbox WHERE channel = 'otlp'`);
      // Nothing of the trace is kept once it is queued.
      const left = state.storage.sql.exec('SELECT COUNT(*) AS n FROM trace_step_spans WHERE deployment_id = ?', id).one().n;
      return { rows, left };
    });
    relay.close();
    expect(exports.left).toBe(0);
    expect(exports.rows).toHaveLength(1);
    const row = exports.rows[0]!;
    expect(row).toMatchObject({ kind: 'otlp.trace', what: 'otlp trace (6 spans)' });
    const request = (JSON.parse(String(row.payload)) as { request: OtlpTraceRequest }).request;
    const [edgeResource, relayResource] = request.resourceSpans;
    expect(request.resourceSpans).toHaveLength(2);
    expect(edgeResource!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'lanyard-edge' } });
    expect(relayResource!.resource.attributes).toEqual(
      expect.arrayContaining([
        { key: 'service.name', value: { stringValue: 'lanyard-relay' } },
        { key: 'service.version', value: { stringValue: '0.0.0' } },
        { key: 'service.instance.id', value: { stringValue: 'test-relay' } },
      ]),
    );
    const edgeSpans = edgeResource!.scopeSpans[0]!.spans;
    const relaySpans = relayResource!.scopeSpans[0]!.spans;
    expect(edgeSpans.map((s) => [s.name, s.parentSpanId ?? null])).toEqual([
      ['deploy home', null],
      ['delivery', edgeSpanIdOf('home', id, 'deployment')],
      ['queue', edgeSpanIdOf('home', id, 'delivery')],
      ['dispatch', edgeSpanIdOf('home', id, 'queue')],
    ]);
    expect(new Set([...edgeSpans, ...relaySpans].map((s) => s.traceId))).toEqual(new Set([context.traceId]));
    expect(edgeSpans[3]!.spanId).toBe(context.parentSpanId);
    expect(relaySpans.map((s) => [s.name, s.spanId, s.parentSpanId])).toEqual([
      ['fetch', fetchSpan.spanId, context.parentSpanId],
      ['apply', applySpan.spanId, context.parentSpanId],
    ]);
    const apply = relaySpans[1]!;
    expect(apply).toMatchObject({ kind: 1, startTimeUnixNano: unixNano(t0 + 13), endTimeUnixNano: unixNano(t0 + 20), status: { code: 0 } });
    expect(attr(apply, 'lanyard.step.message')).toEqual({ stringValue: '1 file written' });
    expect(attr(apply, 'lanyard.step.duration_ms')).toEqual({ intValue: '7' });
    expect(attr(apply, 'lanyard.files_changed')).toEqual({ intValue: '1' });
    expect(attr(edgeSpans[3]!, 'lanyard.activation')).toEqual({ stringValue: 'reload' });
    expect(attr(edgeSpans[0]!, 'lanyard.commit.sha')).toEqual({ stringValue: sha });
    expect(attr(edgeSpans[0]!, 'lanyard.deployment.status')).toEqual({ stringValue: 'succeeded' });
  });
});

describe('trace pieces', () => {
  it('ids are stable per deployment and attempt, W3C-shaped, and FNV-1a is the published one', () => {
    // FNV-1a 64 test vectors (Fowler, Noll, Vo).
    expect(fnv1a64Hex('')).toBe('cbf29ce484222325');
    expect(fnv1a64Hex('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64Hex('foobar')).toBe('85944171f73967e8');
    expect(traceIdOf('home', 'dep_x')).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdOf('home', 'dep_x')).toBe(traceIdOf('home', 'dep_x'));
    expect(traceIdOf('home', 'dep_x')).not.toBe(traceIdOf('cabin', 'dep_x'));
    expect(dispatchSpanIdOf('home', 'dep_x', 1)).not.toBe(dispatchSpanIdOf('home', 'dep_x', 2));
    expect(traceparentOf('home', 'dep_x', 2)).toBe(`00-${traceIdOf('home', 'dep_x')}-${dispatchSpanIdOf('home', 'dep_x', 2)}-01`);
  });

  it('OTLP_HEADERS reads as OTEL_EXPORTER_OTLP_HEADERS does: comma-separated pairs, values percent-decoded, nonsense skipped', () => {
    expect(otlpHeaders('Authorization=Bearer%20abc, X-Scope-OrgID=home')).toEqual({ Authorization: 'Bearer abc', 'X-Scope-OrgID': 'home' });
    expect(otlpHeaders('api-key=a=b=c')).toEqual({ 'api-key': 'a=b=c' });
    expect(otlpHeaders('=nameless,no pair,bad name=x,ok=1')).toEqual({ ok: '1' });
    expect(otlpHeaders(undefined)).toEqual({});
  });

  it('OTLP JSON values: nanoseconds as decimal strings, 64-bit ints as strings, no nulls', () => {
    expect(unixNano(1_764_720_000_123)).toBe('1764720000123000000');
    expect(unixNano(1.5)).toBe('1500000');
    expect(attributes({ a: 'x', b: 3, c: true, d: null, e: undefined })).toEqual([
      { key: 'a', value: { stringValue: 'x' } },
      { key: 'b', value: { intValue: '3' } },
      { key: 'c', value: { boolValue: true } },
    ]);
  });
});
