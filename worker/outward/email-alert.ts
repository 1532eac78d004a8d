// The email channel of an alert, one attempt: a raw RFC 5322 message (alert-mail.ts) handed to the
// Worker's `ALERT_EMAIL` send_email binding, from and to the target's `alerts.email` addresses (read
// when sent, so a corrected address is used at once). The binding refuses an address that is not a
// verified destination of Email Routing: that will not pass by itself, so it is not retried.
import { EmailMessage } from 'cloudflare:email';
import type { Attempt } from './attempt.ts';
import { alertMail, mailDomain } from './alert-mail.ts';
import type { EmailAlertPayload } from './alerts.ts';

export interface AlertEmailSettings {
  binding: SendEmail;
  from: string;
  to: string;
}

type Outcome = { ok: true } | Extract<Attempt, { ok: false }>;

/** The text of the email: the alert, then the page a click opens. */
export function alertEmailText(payload: EmailAlertPayload): string {
  return `${payload.message}\n${payload.url ? `\nStatus page: ${payload.url}\n` : ''}\n-- \nLanyard, alert ${payload.alertId} (${payload.event})\n`;
}

export async function sendAlertEmail(settings: AlertEmailSettings, payload: EmailAlertPayload, now: Date): Promise<Outcome> {
  let raw: string;
  try {
    raw = alertMail({ from: settings.from, to: settings.to, subject: payload.title, text: alertEmailText(payload), messageId: `${payload.alertId}@${mailDomain(settings.from)}`, date: now });
  } catch (error) {
    return { ok: false, retry: false, error: `the alert's email cannot be written: ${error instanceof Error ? error.message : String(error)}`, retryAfterMs: null };
  }
  try {
    await settings.binding.send(new EmailMessage(settings.from, settings.to, raw));
    return { ok: true };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    // "not allowed" / "not verified": the binding's or Email Routing's answer about an address; anything else may pass.
    const refused = /not allowed|not verified|destination|sender/i.test(why);
    return { ok: false, retry: !refused, error: `ALERT_EMAIL: ${why}`.slice(0, 1000), retryAfterMs: null };
  }
}
