// Slack incoming webhook: a message a person reads on a phone. Target, commit, verdict, reason and a
// link to the status page; the plain `text` is what notifications and screen readers show.
import { firstLine } from '../../shared/commit.ts';
import { attempt, type Attempt } from './attempt.ts';
import { headline, type NotificationEvent } from './notification.ts';

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

const ICONS: Record<NotificationEvent['deployment']['status'], string> = {
  succeeded: ':white_check_mark:',
  failed: ':x:',
  rolled_back: ':leftwards_arrow_with_hook:',
  queued: ':hourglass:',
  dispatched: ':hourglass:',
  running: ':hourglass:',
  waiting_for_window: ':alarm_clock:',
  superseded: ':fast_forward:',
  cancelled: ':no_entry_sign:',
};

/** Slack's mrkdwn treats &, < and > as control characters. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackMessage(e: NotificationEvent): SlackMessage {
  const d = e.deployment;
  // The commit's subject, cut to what fits a Slack line.
  const subject = firstLine(d.message).slice(0, 200);
  const lines = [`${ICONS[d.status]} *${escape(headline(e))}*`];
  if (subject) lines.push(`>${escape(subject)}`);
  if (d.reason) lines.push(`*Reason:* ${escape(d.reason.slice(0, 1500))}`);
  const context = [`${escape(e.repo)} · ${escape(d.ref.replace(/^refs\/heads\//, ''))} · \`${d.sha.slice(0, 7)}\``, `asked by ${escape(d.actor)}`];
  if (d.durationMs !== null) context.push(`${(d.durationMs / 1000).toFixed(1)} s`);
  context.push(e.url ? `<${e.url}|${d.id}>` : d.id);
  const text = `${headline(e)}${subject ? ` — ${subject}` : ''}${d.reason ? `: ${d.reason.slice(0, 300)}` : ''}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] },
    ],
  };
}

export function postSlack(url: string, message: SlackMessage): Promise<Attempt> {
  return attempt(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(message) });
}
