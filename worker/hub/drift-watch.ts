// The relay's drift watch, as the hub hears it: each `drift` report replaces the last one (the
// status and GET …/drift show it), and drift that is new (a file, by path and change, the previous
// report did not name) is notified once through the outbox, written to the audit trail, and captured
// where the target says `capture: auto`. A report
// that repeats the last one changes nothing anyone is told; drift that cleared (a report without
// the file) and comes back is new again.
import type { DriftView } from '../../shared/api.ts';
import type { DriftReportMessage } from '../../shared/drift.ts';
import { newId } from '../../shared/ids.ts';
import { alertMessagesFor, driftAlert } from '../outward/alerts.ts';
import { driftNotices } from '../outward/drift-notice.ts';
import { outwardSettings } from '../outward/settings.ts';
import { captureOnNewDrift } from './captures.ts';
import { implausibleReport, newDrift } from './drift-report.ts';
import type { Hub } from './hub.ts';
import { queueOutward } from './outward.ts';
import { liveRelay, sendTo } from './relay-socket.ts';

/** Most files an audit entry names; the report itself has them all. */
const AUDIT_FILES = 50;

export function onDrift(hub: Hub, ws: WebSocket, report: DriftReportMessage): void {
  // Only the target's live relay speaks for its host: a connection another one replaced does not.
  if (liveRelay(hub) !== ws) return;
  const implausible = implausibleReport(report);
  if (implausible) {
    sendTo(ws, { type: 'error', code: 'invalid_message', message: `invalid message: ${implausible}` });
    return;
  }
  const now = Date.now();
  const { previous, kept } = hub.driftReports.record(report, now);
  const fresh = newDrift(previous, kept);
  if (fresh.length) {
    const noticeId = newId('drf', now);
    hub.audit.record({
      at: now,
      actor: 'relay',
      action: 'drift.seen',
      detail: { noticeId, deployedSha: kept.deployedSha, total: kept.total, new: fresh.slice(0, AUDIT_FILES).map((f) => ({ path: f.path, change: f.change, since: f.since })) },
      source: null,
    });
    notify(hub, noticeId, kept, fresh, now);
    captureOnNewDrift(hub);
  }
  hub.changed();
}

/** Nothing outward may stand in the way of the report being kept: a failure here is logged, never thrown. */
function notify(hub: Hub, noticeId: string, report: DriftView, fresh: DriftView['files'], now: number): void {
  try {
    const config = hub.config();
    const settings = outwardSettings(hub.env, config);
    queueOutward(hub, driftNotices({ target: config.name, repo: config.repo, environment: config.environment, settings, report, fresh, noticeId }), now);
    // Issue 18: new drift alerts the house and email too (worker/outward/alerts.ts).
    queueOutward(hub, alertMessagesFor(hub, config, driftAlert(config.name, report, fresh), now), now);
  } catch (error) {
    console.error('could not queue the drift notice', error);
  }
}
