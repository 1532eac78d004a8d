// The relay's side of the conversation, frame by frame: hello (and the job it says it still runs),
// ack, progress, result, the host's backups. Every frame is checked before anything is read (size,
// then shape); a relay must say hello first. What the relay says only ever changes a job it was
// handed, in the attempt it was handed: anything else gets an error frame or a cancel, and no row
// changes. A relay's own result is the truth even after the hub gave the job up as "relay lost".
import type { DeploymentView } from '../../shared/api.ts';
import { isFinal } from '../../shared/deployment.ts';
import type { BackupsMessage, HelloMessage, HubMessage, ProgressMessage, ResultMessage } from '../../shared/protocol.ts';
import { LANYARD_VERSION } from '../../shared/release-version.ts';
import { BACKUP_INVENTORY_CAPABILITY, CLOSE_CODES, MAX_RELAY_FRAME_BYTES, PONG_TEXT, PROTOCOL_VERSION, RelayMessage, parseFrame } from '../../shared/protocol.ts';
import { onAlerted, onAlertsHello } from './alert-answers.ts';
import { onDrift } from './drift-watch.ts';
import { targetStateMessage } from './freeze.ts';
import type { Hub } from './hub.ts';
import { captureAfterMerge, onCaptured, requeueSentCaptures } from './captures.ts';
import { RELAY_LOST } from './leases.ts';
import { onPlanned, requeueSentPlans } from './pull-plans.ts';
import { recordWaiting } from './restart-windows.ts';
import { attachmentOf, liveRelay, sendTo, type RelayAttachment } from './relay-socket.ts';
import { recordStepSpan } from '../traces/trace-records.ts';

/** One frame from the relay's socket. */
export function onRelayFrame(hub: Hub, ws: WebSocket, frame: string | ArrayBuffer): void {
  // Refused unread: a frame this size is no message of the protocol, and would not fit a row.
  const bytes = typeof frame === 'string' ? new TextEncoder().encode(frame).byteLength : frame.byteLength;
  if (bytes > MAX_RELAY_FRAME_BYTES) {
    console.warn(`relay sent a frame of ${bytes} bytes`);
    sendTo(ws, { type: 'error', code: 'invalid_message', message: `invalid message: a frame of ${bytes} bytes is over the limit of ${MAX_RELAY_FRAME_BYTES}` });
    return;
  }
  const parsed = parseFrame(RelayMessage, frame);
  if (!parsed.ok) {
    console.warn(`relay sent an invalid message: ${parsed.error}`);
    sendTo(ws, { type: 'error', code: 'invalid_message', message: `invalid message: ${parsed.error}` });
    return;
  }
  const message = parsed.message;
  const attachment = attachmentOf(ws)!;
  if (message.type !== 'hello' && message.type !== 'ping' && message.type !== 'error' && !attachment.hello) {
    sendTo(ws, { type: 'error', code: 'invalid_message', message: 'say hello first' });
    return;
  }
  switch (message.type) {
    case 'hello':
      onHello(hub, ws, attachment, message);
      break;
    case 'ack':
      onAck(hub, ws, message.jobId, message.attempt);
      break;
    case 'progress':
      onProgress(hub, ws, message);
      break;
    case 'result':
      onResult(hub, ws, message);
      break;
    case 'backups':
      onBackups(hub, message);
      break;
    case 'error':
      console.warn(`relay reported an error: ${message.code}: ${message.message}`);
      break;
    case 'ping':
      ws.send(PONG_TEXT);
      break;
    case 'drift':
      onDrift(hub, ws, message);
      break;
    case 'captured':
      onCaptured(hub, message);
      break;
    case 'alerted':
      // Issue 18, alerts: the outbox's house channel settles the alert (alert-answers.ts).
      onAlerted(hub, message);
      break;
    case 'planned':
      onPlanned(hub, message);
      break;
    default: {
      const unreachable: never = message;
      throw new Error(`unhandled relay message ${JSON.stringify(unreachable)}`);
    }
  }
  hub.meta.set('relay_last_seen', String(Date.now()));
}

/** The relay's socket closed or failed. */
export function onRelayGone(hub: Hub, ws: WebSocket, how: string): void {
  const attachment = attachmentOf(ws);
  const stillConnected = liveRelay(hub, ws);
  if (!stillConnected) {
    // A job handed over but not acknowledged goes back to the queue at once; a running job keeps
    // its lease, so a relay that reconnects in time can still report it.
    for (const d of hub.deployments.withStatus(['dispatched'])) {
      hub.deployments.update(d.id, { status: 'queued', reason: 'relay disconnected before acknowledging', dispatched_at: null });
    }
    hub.meta.set('relay_disconnected_at', String(Date.now()));
    requeueSentCaptures(hub);
    requeueSentPlans(hub);
  }
  hub.audit.record({ at: Date.now(), actor: attachment?.hello?.relayId ?? 'relay', action: 'relay.disconnected', detail: { how }, source: attachment?.source ?? null });
  hub.changed();
}

function onHello(hub: Hub, ws: WebSocket, attachment: RelayAttachment, hello: HelloMessage): void {
  if (hello.v !== PROTOCOL_VERSION) {
    ws.close(CLOSE_CODES.versionUnsupported, `protocol version ${hello.v} unsupported; this edge speaks ${PROTOCOL_VERSION}`);
    return;
  }
  const now = Date.now();
  attachment.hello = { relayId: hello.relayId, version: hello.version, capabilities: hello.capabilities, at: now };
  ws.serializeAttachment(attachment);
  hub.meta.set('relay', JSON.stringify({ relayId: hello.relayId, version: hello.version, since: now, homeAssistant: hello.homeAssistant ?? null }));
  // A relay that never reports its backups (an older one) would leave the last inventory to go
  // stale and refuse restores of backups taken since: without it, the hub offers them all, as before.
  if (!hello.capabilities.includes(BACKUP_INVENTORY_CAPABILITY)) hub.backupInventory.forget();
  // A capture the previous connection had may never be answered: it goes again (it is safe to repeat).
  requeueSentCaptures(hub);
  // Issue 18, alerts: whether this relay passes alerts to the house; pending ones go to it now.
  onAlertsHello(hub, hello);
  requeueSentPlans(hub);
  hub.audit.record({ at: now, actor: hello.relayId, action: 'relay.hello', detail: { version: hello.version, capabilities: hello.capabilities, inFlight: hello.inFlight }, source: attachment.source });
  sendTo(ws, { type: 'welcome', v: PROTOCOL_VERSION, target: hub.meta.targetName(), leaseMs: hub.timings.leaseMs, ackTimeoutMs: hub.timings.ackTimeoutMs, edgeVersion: LANYARD_VERSION });
  // The freeze (or none), for the house's sensor: after every welcome, so a stale one is cleared.
  sendTo(ws, targetStateMessage(hub));
  if (hello.inFlight) {
    const d = hub.deployments.get(hello.inFlight.jobId);
    // A job never handed to a relay (attempt 0) is no relay's to claim.
    if (d && !isFinal(d.status) && d.attempt > 0) {
      // The relay is still working on it (it restarted, or the connection dropped): it owns the job.
      hub.deployments.update(d.id, { status: 'running', started_at: d.startedAt ?? now, lease_expires_at: now + hub.timings.leaseMs });
      hub.reschedule();
    }
  }
  hub.pump();
  // Watching status pages refresh; the outside world hears about it.
  hub.changed();
}

function onAck(hub: Hub, ws: WebSocket, jobId: string, attempt: number): void {
  const d = hub.deployments.get(jobId);
  if (!d) return sendTo(ws, { type: 'error', code: 'unknown_job', message: `no job ${jobId}`, jobId });
  if (d.status !== 'dispatched' || d.attempt !== attempt) {
    // Running: progress already proved the relay has it. Finished: its result overtook the ack
    // (events of one socket are not always handled in the order sent); there is nothing to stop.
    if (d.status === 'running' || isFinal(d.status)) return;
    // An ack for an attempt the hub already gave up on: the relay must not run it.
    sendTo(ws, { type: 'cancel', jobId, reason: `attempt ${attempt} is no longer current (deployment is ${d.status})` });
    return;
  }
  const now = Date.now();
  hub.deployments.update(d.id, { status: 'running', started_at: now, lease_expires_at: now + hub.timings.leaseMs });
  hub.reschedule();
  hub.changed();
}

function onProgress(hub: Hub, ws: WebSocket, p: ProgressMessage): void {
  const d = hub.deployments.get(p.jobId);
  if (!d) return sendTo(ws, { type: 'error', code: 'unknown_job', message: `no job ${p.jobId}`, jobId: p.jobId });
  if (neverDispatched(d)) return sendTo(ws, neverDispatchedError(d));
  if (isFinal(d.status) && d.reason !== RELAY_LOST) return;
  const now = Date.now();
  const changes: Record<string, SqlStorageValue> = { lease_expires_at: now + hub.timings.leaseMs };
  if (d.status === 'dispatched' || isFinal(d.status)) {
    // Progress proves the relay took the job even if its ack was lost.
    Object.assign(changes, { status: 'running', started_at: d.startedAt ?? now, finished_at: null, reason: null });
  }
  hub.deployments.update(d.id, changes);
  hub.stepLog.record(d.id, p);
  // Issue 20, traces: the step's span, when the relay made one in this deployment's trace.
  recordStepSpan(hub.sql, hub.meta.targetName(), d, p);
  hub.reschedule();
  hub.changed();
}

function onResult(hub: Hub, ws: WebSocket, r: ResultMessage): void {
  const d = hub.deployments.get(r.jobId);
  if (!d) return sendTo(ws, { type: 'error', code: 'unknown_job', message: `no job ${r.jobId}`, jobId: r.jobId });
  // A result for a job no relay was ever given cannot be true; the job stays queued.
  if (neverDispatched(d)) return sendTo(ws, neverDispatchedError(d));
  // Idempotent: a repeated result changes nothing (but is confirmed again, so the relay can drop
  // it). The one exception is a job the hub gave up on as "relay lost": the relay's own account
  // of what happened is the truth and replaces it.
  if (isFinal(d.status) && d.reason !== RELAY_LOST) return sendTo(ws, { type: 'recorded', jobId: d.id });
  const now = Date.now();
  // Issue 20, traces: each step span's end again, for any whose own progress event is handled after this result.
  for (const p of r.stepSpans ?? []) if (p.jobId === d.id) recordStepSpan(hub.sql, hub.meta.targetName(), d, p);
  // Issue 18: checked and put back, the restart held for the window (restart-windows.ts).
  if (r.status === 'waiting_for_window') {
    if (d.status !== 'waiting_for_window') recordWaiting(hub, d, r, now);
    sendTo(ws, { type: 'recorded', jobId: d.id });
    hub.pump();
    hub.changed();
    return;
  }
  hub.deployments.update(d.id, {
    status: r.status,
    reason: r.reason,
    summary: JSON.stringify(r.summary),
    finished_at: now,
    lease_expires_at: null,
    started_at: d.startedAt ?? now,
  });
  hub.audit.record({ at: now, actor: 'relay', action: `deploy.${r.status}`, detail: { deploymentId: d.id, reason: r.reason, corrected: isFinal(d.status) }, source: null });
  sendTo(ws, { type: 'recorded', jobId: d.id });
  captureAfterMerge(hub, hub.deployments.get(d.id)!);
  hub.pump();
  hub.changed();
}

/** The host's backups as the relay lists them now: kept without an audit entry (it comes after every job). */
function onBackups(hub: Hub, message: BackupsMessage): void {
  if (hub.backupInventory.record(message, Date.now())) hub.changed();
}

/** Still queued and never sent to any relay: no relay can be working on it, or have finished it. */
function neverDispatched(d: DeploymentView): boolean {
  return d.status === 'queued' && d.attempt === 0;
}

function neverDispatchedError(d: DeploymentView): HubMessage {
  return { type: 'error', code: 'stale_attempt', message: `job ${d.id} was never sent to a relay: it is queued`, jobId: d.id };
}
