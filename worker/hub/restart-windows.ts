// Restart windows (issue 18): a deploy whose plan needs a restart waits for the target's window.
// Only the relay knows the plan, so the hub tells it whether it may restart now (`job.mayRestart`);
// a relay held back answers `waiting_for_window` (checked, put back, nothing changed on the host),
// the deployment waits, and the alarm wakes the hub when a window opens and queues it again. An
// operator's "restart now" queues it at once with the restart allowed. The latest push still wins:
// a newer deploy supersedes a waiting one (queue.ts).
import type { DeploymentView, RestartWindowView } from '../../shared/api.ts';
import type { ResultMessage } from '../../shared/protocol.ts';
import { RELAY_CAPABILITIES } from '../../shared/protocol.ts';
import { isWithinRestartWindow, localTimeLabel, nextRestartWindowOpening } from '../../shared/restart-window.ts';
import { quoteInput } from '../http/quote-input.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';
import { attachmentOf, liveRelay } from './relay-socket.ts';

const WAITING = ['waiting_for_window'] as const;

function windowsOf(hub: Hub): { windows: string[]; timeZone: string } {
  const config = hub.config();
  return { windows: config.restartWindows ?? [], timeZone: config.timeZone ?? 'UTC' };
}

/** `02:00-05:00 Europe/Amsterdam`: the windows as the page and reasons name them. */
function describeWindows(windows: readonly string[], timeZone: string): string {
  return `${windows.join(', ')} ${timeZone}`;
}

function restartNowAsked(hub: Hub, deploymentId: string): boolean {
  const row = hub.sql.exec('SELECT restart_now FROM deployments WHERE id = ?', deploymentId).toArray()[0];
  return Number(row?.restart_now ?? 0) === 1;
}

/**
 * What dispatch tells the relay: `true` when it may restart (no windows, inside one, an operator's
 * "restart now", or a rollback, which restores and is never held); `false` to hold a restart; and
 * undefined for a relay that does not name `restart-window`: it is told nothing, as before (it would
 * restart anyway), and the status page says the windows are not kept.
 */
export function mayRestartFor(hub: Hub, d: DeploymentView, relay: WebSocket, now: number): boolean | undefined {
  if (!relayKeepsWindows(relay)) return undefined;
  const { windows, timeZone } = windowsOf(hub);
  return d.kind === 'rollback' || windows.length === 0 || restartNowAsked(hub, d.id) || isWithinRestartWindow(windows, timeZone, now);
}

function relayKeepsWindows(relay: WebSocket): boolean {
  return attachmentOf(relay)?.hello?.capabilities.includes(RELAY_CAPABILITIES.restartWindow) ?? false;
}

/** The reason a held deployment shows: what needs the restart (the relay's words), and when the window opens. */
function waitingReason(hub: Hub, relayReason: string | null, now: number): string {
  const { windows, timeZone } = windowsOf(hub);
  const needs = (relayReason ?? 'needs a restart').split(';')[0]!.trim();
  const opening = nextRestartWindowOpening(windows, timeZone, now);
  const when = opening === null ? 'no opening found in the next eight days' : `opens ${localTimeLabel(timeZone, opening)}`;
  return `${needs}; checked by Home Assistant and put back; waits for the restart window ${describeWindows(windows, timeZone)}, ${when}`;
}

/** The relay held the restart and put the files back: the deployment waits (not final; GitHub still sees it queued). */
export function recordWaiting(hub: Hub, d: DeploymentView, r: ResultMessage, now: number): void {
  const reason = waitingReason(hub, r.reason, now);
  hub.deployments.update(d.id, {
    status: 'waiting_for_window',
    reason,
    summary: JSON.stringify(r.summary),
    finished_at: null,
    lease_expires_at: null,
    started_at: d.startedAt ?? now,
  });
  hub.audit.record({ at: now, actor: 'relay', action: 'deploy.waiting_for_window', detail: { deploymentId: d.id, reason }, source: null });
  hub.reschedule();
}

/** The alarm's deadline: the next opening while anything waits (now, when a window is open or none is configured any more). */
export function nextWindowDeadline(hub: Hub, now: number): number | null {
  if (hub.deployments.withStatus(WAITING).length === 0) return null;
  const { windows, timeZone } = windowsOf(hub);
  return nextRestartWindowOpening(windows, timeZone, now);
}

/** In the alarm: a window is open, so what waits for it is queued again (the caller pumps). */
export function reopenWaiting(hub: Hub, now: number): void {
  const { windows, timeZone } = windowsOf(hub);
  if (!isWithinRestartWindow(windows, timeZone, now)) return;
  for (const d of hub.deployments.withStatus(WAITING)) {
    hub.deployments.update(d.id, { status: 'queued', reason: null });
    hub.audit.record({ at: now, actor: 'edge', action: 'deploy.window_opened', detail: { deploymentId: d.id, windows, timeZone }, source: null });
  }
}

/** An operator's "restart now": the waiting deployment is queued with the restart allowed. */
export function restartNow(hub: Hub, deploymentId: string, actor: string, source: string | null): HubResult<DeploymentView> {
  const d = hub.deployments.get(deploymentId);
  if (!d) return refused(404, 'unknown_deployment', `No deployment ${quoteInput(deploymentId)} on this target.`);
  if (d.status !== 'waiting_for_window') {
    return refused(409, 'not_waiting_for_window', `Deployment ${d.id} is ${d.status}; only a deployment waiting for the restart window can be restarted now.`);
  }
  const now = Date.now();
  hub.deployments.update(d.id, { status: 'queued', reason: null, restart_now: 1 });
  hub.audit.record({ at: now, actor, action: 'deploy.restart_now', detail: { deploymentId: d.id }, source });
  hub.pump();
  hub.changed();
  return accepted(hub.deployments.get(d.id)!);
}

/** The target's windows as the status page shows them; null when it has none. */
export function restartWindowView(hub: Hub, now: number): RestartWindowView | null {
  let windows: string[];
  let timeZone: string;
  try {
    ({ windows, timeZone } = windowsOf(hub));
  } catch {
    return null;
  }
  if (windows.length === 0) return null;
  const relay = liveRelay(hub);
  const open = isWithinRestartWindow(windows, timeZone, now);
  const opening = open ? null : nextRestartWindowOpening(windows, timeZone, now);
  return {
    windows,
    timeZone,
    open,
    nextOpening: opening,
    nextOpeningLocal: opening === null ? null : localTimeLabel(timeZone, opening),
    waiting: hub.deployments.withStatus(WAITING),
    relayKeepsWindows: relay ? relayKeepsWindows(relay) : null,
  };
}
