// One deployment as one OpenTelemetry trace, built when the deployment ends. The edge's spans
// (service `lanyard-edge`) chain what happened to it: the root `deployment` span covers all of it;
// under it `delivery` (the webhook's receipt until the deployment was queued; only for a
// deployment a webhook made), then `queue` (queued until handed to the relay), then `dispatch` (one
// per hand-over: until the result, or for an earlier attempt the relay's steps of it). The relay's
// spans (service `lanyard-relay`, its own resourceSpans) are its steps, each under the dispatch
// span whose traceparent its job carried. Ids come from trace-ids.ts and the relay.
import type { DeploymentView } from '../../shared/api.ts';
import { firstLine } from '../../shared/commit.ts';
import type { DeploymentSummary, StepName } from '../../shared/deployment.ts';
import { attributes, SPAN_KIND, STATUS_CODE, unixNano, type OtlpSpan, type OtlpTraceRequest } from './otlp-json.ts';
import type { StepSpanRecord } from './trace-records.ts';
import { dispatchSpanIdOf, edgeSpanIdOf, traceIdOf } from './trace-ids.ts';

export const EDGE_SERVICE = 'lanyard-edge';
export const RELAY_SERVICE = 'lanyard-relay';
const SCOPE_NAME = 'lanyard';

export interface DeploymentTraceInput {
  target: string;
  deployment: DeploymentView;
  /** When the webhook that made it arrived; null for a deployment no webhook made. */
  receivedAt: number | null;
  steps: readonly StepSpanRecord[];
  /** The relay that last said hello, for its resource. */
  relay: { relayId: string; version: string } | null;
  edgeVersion: string;
  /** Ends what has no end of its own (a deployment that never finished cannot be exported; this is a guard). */
  now: number;
}

type Times = { start: number; end: number };

function span(traceId: string, spanId: string, parentSpanId: string | null, name: string, kind: OtlpSpan['kind'], times: Times, attrs: OtlpSpan['attributes'], error: string | null): OtlpSpan {
  const s: OtlpSpan = {
    traceId,
    spanId,
    name,
    kind,
    startTimeUnixNano: unixNano(times.start),
    // A clock may step back between two events: a span never ends before it starts.
    endTimeUnixNano: unixNano(Math.max(times.start, times.end)),
    attributes: attrs,
    status: error === null ? { code: STATUS_CODE.unset } : { code: STATUS_CODE.error, message: error },
  };
  if (parentSpanId !== null) s.parentSpanId = parentSpanId;
  return s;
}

function failure(d: DeploymentView): string | null {
  return d.status === 'failed' || d.status === 'rolled_back' ? (d.reason ?? d.status) : null;
}

function count(list: readonly string[], total: number | undefined): number {
  return total ?? list.length;
}

/** What the relay's summary says about the step that did it, for that step's span. */
function summaryAttributes(step: StepName, s: DeploymentSummary): Record<string, string | number | boolean | null> {
  switch (step) {
    case 'apply':
      return { 'lanyard.files_changed': count(s.filesChanged, s.filesChangedCount), 'lanyard.files_deleted': count(s.filesDeleted, s.filesDeletedCount), 'lanyard.bytes_sent': s.bytesSent };
    case 'activate':
      return { 'lanyard.activation': s.activation, 'lanyard.reloaded_domains': s.reloadedDomains.join(',') || null, 'lanyard.restart_held': s.restartHeld ?? null };
    case 'backup':
      return { 'lanyard.backup_id': s.backupId };
    case 'ha_backup':
      return { 'lanyard.home_assistant_backup': s.homeAssistantBackup?.slug ?? null };
    case 'drift':
      return { 'lanyard.drift_files': count(s.drift, s.driftCount) };
    default:
      return {};
  }
}

export function deploymentTrace(input: DeploymentTraceInput): OtlpTraceRequest {
  const { target, deployment: d, receivedAt, steps } = input;
  const traceId = traceIdOf(target, d.id);
  const idOf = (name: 'deployment' | 'delivery' | 'queue') => edgeSpanIdOf(target, d.id, name);
  const finishedAt = d.finishedAt ?? input.now;
  const edge: OtlpSpan[] = [];

  edge.push(
    span(traceId, idOf('deployment'), null, `${d.kind} ${target}`, receivedAt === null ? SPAN_KIND.internal : SPAN_KIND.server, { start: receivedAt ?? d.createdAt, end: finishedAt }, attributes({
      'lanyard.target': target,
      'lanyard.deployment.id': d.id,
      'lanyard.deployment.kind': d.kind,
      'lanyard.deployment.status': d.status,
      'lanyard.trigger': d.trigger,
      'lanyard.actor': d.actor,
      'lanyard.commit.sha': d.sha,
      'lanyard.commit.subject': firstLine(d.message).slice(0, 200) || null,
      'lanyard.ref': d.ref,
      'lanyard.reason': d.reason,
      'lanyard.superseded_by': d.supersededBy,
      'lanyard.rollback_of': d.rollbackOf,
      'lanyard.attempts': d.attempt,
    }), failure(d)),
  );
  let parent = idOf('deployment');
  if (receivedAt !== null) {
    edge.push(span(traceId, idOf('delivery'), parent, 'delivery', SPAN_KIND.server, { start: receivedAt, end: d.createdAt }, attributes({ 'lanyard.delivery.id': d.deliveryId, 'lanyard.trigger': d.trigger }), null));
    parent = idOf('delivery');
  }
  const neverRan = d.dispatchedAt === null;
  edge.push(
    span(traceId, idOf('queue'), parent, 'queue', SPAN_KIND.internal, { start: d.createdAt, end: d.dispatchedAt ?? finishedAt }, attributes({
      // Why it left the queue without running, when it did.
      'lanyard.queue.outcome': neverRan ? d.status : 'dispatched',
      'lanyard.superseded_by': d.supersededBy,
    }), null),
  );
  parent = idOf('queue');

  // One dispatch span per hand-over the relay reported steps of, and the last one in any case.
  const attempts = new Set(steps.map((s) => s.attempt));
  if (!neverRan && d.attempt > 0) attempts.add(d.attempt);
  for (const attempt of [...attempts].sort((a, b) => a - b)) {
    const last = attempt === d.attempt && !neverRan;
    const ofAttempt = steps.filter((s) => s.attempt === attempt);
    const times = last
      ? { start: d.dispatchedAt!, end: finishedAt }
      : { start: Math.min(...ofAttempt.map((s) => s.startedAt)), end: Math.max(...ofAttempt.map((s) => s.endedAt ?? s.startedAt)) };
    const s = d.summary;
    const outcome = last
      ? {
          'lanyard.deployment.status': d.status,
          'lanyard.reason': d.reason,
          'lanyard.files_changed': s ? count(s.filesChanged, s.filesChangedCount) : null,
          'lanyard.files_deleted': s ? count(s.filesDeleted, s.filesDeletedCount) : null,
          'lanyard.activation': s?.activation ?? null,
          'lanyard.backup_id': s?.backupId ?? null,
          'lanyard.duration_ms': d.startedAt !== null && d.finishedAt !== null ? d.finishedAt - d.startedAt : null,
        }
      : { 'lanyard.deployment.status': 'handed over again' };
    edge.push(
      span(traceId, dispatchSpanIdOf(target, d.id, attempt), parent, 'dispatch', SPAN_KIND.client, times, attributes({
        'lanyard.attempt': attempt,
        'lanyard.relay.id': input.relay?.relayId ?? null,
        ...outcome,
      }), last ? failure(d) : null),
    );
  }

  // The summary's facts go on the last run of the step that produced them.
  const lastRun = new Map<StepName, StepSpanRecord>();
  for (const s of steps) if (s.attempt === d.attempt && s.status === 'succeeded') lastRun.set(s.step, s);
  const relay = steps.map((s) => {
    const unfinished = s.endedAt === null;
    const extra = d.summary && lastRun.get(s.step) === s ? summaryAttributes(s.step, d.summary) : {};
    return span(traceId, s.spanId, s.parentSpanId, s.step, SPAN_KIND.internal, { start: s.startedAt, end: s.endedAt ?? finishedAt }, attributes({
      'lanyard.step': s.step,
      'lanyard.step.status': unfinished ? 'unfinished' : s.status,
      'lanyard.step.message': s.message,
      'lanyard.step.duration_ms': s.durationMs,
      'lanyard.attempt': s.attempt,
      ...extra,
    }), s.status === 'failed' ? s.message : unfinished ? 'the relay never reported this step\'s end' : null);
  });

  const scope = { name: SCOPE_NAME, version: input.edgeVersion };
  const request: OtlpTraceRequest = {
    resourceSpans: [{ resource: { attributes: attributes({ 'service.name': EDGE_SERVICE, 'service.version': input.edgeVersion, 'lanyard.target': target }) }, scopeSpans: [{ scope, spans: edge }] }],
  };
  if (relay.length) {
    request.resourceSpans.push({
      resource: { attributes: attributes({ 'service.name': RELAY_SERVICE, 'service.version': input.relay?.version ?? null, 'service.instance.id': input.relay?.relayId ?? null, 'lanyard.target': target }) },
      scopeSpans: [{ scope: { name: SCOPE_NAME, version: input.relay?.version ?? input.edgeVersion }, spans: relay }],
    });
  }
  return request;
}
