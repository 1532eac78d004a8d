// When a deployment ends, its trace goes into the outbox (channel `otlp`), once: the first time the
// hub announces a final status for it. A later correction (a result after "relay lost") exports
// nothing again, since a collector would take the same span ids twice. The hub's trace records of
// the deployment are dropped then, exported or not (without OTLP_ENDPOINT nothing is queued).
import type { DeploymentView } from '../../shared/api.ts';
import { isFinal, type DeploymentStatus } from '../../shared/deployment.ts';
import { LANYARD_VERSION } from '../../shared/release-version.ts';
import type { Hub } from '../hub/hub.ts';
import type { OutboxMessage } from '../outward/announcements.ts';
import type { OutwardSettings } from '../outward/settings.ts';
import { deploymentTrace } from './deployment-trace.ts';
import { forgetTrace, receiptOf, stepSpansOf } from './trace-records.ts';

function lastRelay(hub: Hub): { relayId: string; version: string } | null {
  try {
    const relay = JSON.parse(hub.meta.get('relay') ?? 'null') as { relayId?: unknown; version?: unknown } | null;
    return relay && typeof relay.relayId === 'string' && typeof relay.version === 'string' ? { relayId: relay.relayId, version: relay.version } : null;
  } catch {
    return null;
  }
}

/** The trace export a deployment that just ended needs; none before it ends, after it was exported, or without OTLP_ENDPOINT. */
export function traceExportsFor(hub: Hub, d: DeploymentView, announcedStatus: DeploymentStatus | null, settings: Pick<OutwardSettings, 'otlp'>, now: number): OutboxMessage[] {
  if (!isFinal(d.status)) return [];
  const target = hub.meta.targetName();
  const messages: OutboxMessage[] = [];
  const firstEnd = announcedStatus === null || !isFinal(announcedStatus);
  if (settings.otlp && firstEnd) {
    // A trace that cannot be built is lost alone: GitHub, Slack and the rest are announced in the same pass.
    try {
      const request = deploymentTrace({ target, deployment: d, receivedAt: receiptOf(hub.sql, d.id), steps: stepSpansOf(hub.sql, d.id), relay: lastRelay(hub), edgeVersion: LANYARD_VERSION, now });
      const spans = request.resourceSpans.reduce((n, r) => n + r.scopeSpans.reduce((m, s) => m + s.spans.length, 0), 0);
      messages.push({ channel: 'otlp', kind: 'otlp.trace', deploymentId: d.id, what: `otlp trace (${spans} spans)`, payload: { request } });
    } catch (error) {
      console.error(`could not build the trace of ${d.id}`, error);
    }
  }
  forgetTrace(hub.sql, d.id);
  return messages;
}
