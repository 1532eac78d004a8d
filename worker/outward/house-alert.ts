// The house channel of an alert, one attempt: the hub hands the `alert` to its connected relay,
// which passes it to the Home Assistant notify services its own config names and answers `alerted`.
// An attempt is a send and a wait: the outbox entry stays pending with a deadline, the relay's
// `alerted` settles it (worker/hub/alert-answers.ts: ok → delivered, not ok → retried), and no
// answer by the deadline sends it again. No relay now: retried, and sent at once when one says hello.
import type { AlertMessage } from '../../shared/alert.ts';
import { RELAY_CAPABILITIES } from '../../shared/protocol.ts';
import type { Attempt } from './attempt.ts';
import type { OutboxEntry } from './outbox.ts';

/** How long the relay has to answer before the alert is sent again (it deduplicates by alertId). */
export const ALERT_ANSWER_MS = 30_000;

/** The target's relay as the courier sees it: connected and welcomed, with what it said it can do. */
export interface RelayLink {
  capabilities: readonly string[];
  /** False when the message could not be written to the socket. */
  send(message: AlertMessage): boolean;
}

/** Sent: the outbox waits for the answer until `answerWithinMs` from now. `note`: why it was sent again. */
export interface AwaitingAnswer {
  ok: 'sent';
  answerWithinMs: number;
  note: string | null;
}

export type HouseAttempt = AwaitingAnswer | Extract<Attempt, { ok: false }>;

export function sendHouseAlert(relay: RelayLink | null, entry: Pick<OutboxEntry, 'attempts' | 'lastError'>, alert: AlertMessage): HouseAttempt {
  if (!relay) return { ok: false, retry: true, error: 'no relay is connected; the alert goes when one says hello', retryAfterMs: null };
  if (!relay.capabilities.includes(RELAY_CAPABILITIES.alerts)) {
    return { ok: false, retry: false, error: 'the relay names no Home Assistant notify services (its config `alerts.notify` is empty, or it is older than alerts)', retryAfterMs: null };
  }
  if (!relay.send(alert)) return { ok: false, retry: true, error: 'could not write the alert to the relay\'s connection', retryAfterMs: null };
  // A pending entry sent before whose error is clear was sent and never answered.
  const unanswered = entry.attempts > 1 && entry.lastError === null;
  return { ok: 'sent', answerWithinMs: ALERT_ANSWER_MS, note: unanswered ? `sent again: attempt ${entry.attempts - 1} was not answered (no answer within ${ALERT_ANSWER_MS / 1000} s, or the relay reconnected)` : null };
}
