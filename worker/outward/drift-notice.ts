// What Slack and the signed webhook are told when the relay's drift watch sees new drift: one
// notice per new drift (a file, by path and change, its previous report did not name), never one
// per look at the host. Pure: the hub decides that the drift is new (worker/hub/drift-watch.ts) and
// puts what this answers into the outbox. No diff goes out: the notice names files and links to
// the status page, where the diffs are.
import type { DriftView } from '../../shared/api.ts';
import type { OutboxMessage } from './announcements.ts';
import type { OutwardSettings } from './settings.ts';
import type { SlackMessage } from './slack.ts';

/** The most files a notice lists by name; `total` and the status page have the rest. */
const NOTICE_FILES = 50;
const SLACK_FILES = 10;

export interface DriftNotificationEvent {
  event: 'drift.detected';
  /** Unique per notice and the same on every retry of it: receivers deduplicate on it. */
  deliveryId: string;
  target: string;
  repo: string;
  environment: string;
  /** The target on the status page, when PUBLIC_URL is set. */
  url: string | null;
  drift: {
    deployedSha: string | null;
    /** When the relay looked (its clock). */
    at: number;
    /** How many files differ from the last deploy in all. */
    total: number;
    /** The first files that differ; `new`: not in the relay's previous report. */
    files: { path: string; change: string; since: number; new: boolean }[];
  };
}

export interface DriftNoticeInput {
  target: string;
  repo: string;
  environment: string;
  settings: Pick<OutwardSettings, 'slack' | 'webhook' | 'statusPageUrl'>;
  report: DriftView;
  fresh: DriftView['files'];
  /** The notice's id: its outbox stream and the `deliveryId` receivers deduplicate on. */
  noticeId: string;
}

export function driftNotificationEvent(input: DriftNoticeInput): DriftNotificationEvent {
  const fresh = new Set(input.fresh.map((f) => f.path));
  return {
    event: 'drift.detected',
    deliveryId: input.noticeId,
    target: input.target,
    repo: input.repo,
    environment: input.environment,
    url: input.settings.statusPageUrl,
    drift: {
      deployedSha: input.report.deployedSha,
      at: input.report.at,
      total: input.report.total,
      files: input.report.files.slice(0, NOTICE_FILES).map((f) => ({ path: f.path, change: f.change, since: f.since, new: fresh.has(f.path) })),
    },
  };
}

/** Slack's mrkdwn treats &, < and > as control characters. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function driftSlackMessage(e: DriftNotificationEvent): SlackMessage {
  const { total, files } = e.drift;
  const headline = `${e.target}: ${total} file${total === 1 ? '' : 's'} changed on the host since the last deploy`;
  const named = files.slice(0, SLACK_FILES).map((f) => `• \`${escape(f.path)}\` ${f.change}${f.new ? ' (new)' : ''}`);
  if (total > named.length) named.push(`… and ${total - named.length} more`);
  const ways = 'Capture them into a pull request, or choose for the next deploy: overwrite them (after backup) or keep the host\'s versions.';
  const link = e.url ? `<${e.url}|${escape(e.target)} on the status page>` : escape(e.target);
  return {
    text: `${headline}: ${files.slice(0, SLACK_FILES).map((f) => f.path).join(', ')}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: [`:warning: *${escape(headline)}*`, ...named].join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${escape(e.repo)} · ${e.drift.deployedSha ? `deployed \`${e.drift.deployedSha.slice(0, 7)}\` · ` : ''}${ways} · ${link}` }] },
    ],
  };
}

/** The outbox messages of one notice: one per notification channel that is on. */
export function driftNotices(input: DriftNoticeInput): OutboxMessage[] {
  const event = driftNotificationEvent(input);
  const messages: OutboxMessage[] = [];
  if (input.settings.slack) messages.push({ channel: 'slack', kind: 'slack.message', deploymentId: input.noticeId, what: 'slack drift', payload: { message: driftSlackMessage(event) } });
  if (input.settings.webhook) messages.push({ channel: 'webhook', kind: 'webhook.event', deploymentId: input.noticeId, what: 'webhook drift.detected', payload: { event } });
  return messages;
}
