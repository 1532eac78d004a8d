// How the status page writes numbers, times and commits. Pure, so a test can pin every sentence.
import type { DeploymentView } from '../../shared/api.ts';
import { RAN_STATUSES } from '../../shared/deployment.ts';

// Commits are named as everywhere else (shared/commit.ts); the page's views import them from here.
import { firstLine, shortSha } from '../../shared/commit.ts';
export { firstLine, shortSha };

export function commitUrl(repo: string, sha: string): string {
  return `https://github.com/${repo}/commit/${sha}`;
}

/** `35 ms`, `0.4 s`, `12.4 s`, `3 min 12 s`, `2 h 5 min`. */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const value = Math.max(0, ms);
  // A local step takes milliseconds: "0.0 s" would say it took nothing.
  if (value < 100) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  const seconds = Math.round(value / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function percent(rate: number | null): string {
  if (rate === null) return '—';
  return `${Math.round(rate * 1000) / 10}%`;
}

/** `2026-11-22 19:05:00 UTC`: the page's script shows it in the reader's own time zone. */
export function utcTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `just now`, `3 min ago`, `2 h ago`, `4 days ago`. */
export function ago(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  if (seconds < 86_400 * 2) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

/**
 * How long a deployment ran: from when the relay took it to when it ended, as the metrics count it.
 * A superseded or cancelled one never ran: no duration.
 */
export function deploymentDuration(d: DeploymentView): number | null {
  if (d.finishedAt === null || !RAN_STATUSES.includes(d.status)) return null;
  return d.finishedAt - (d.startedAt ?? d.dispatchedAt ?? d.createdAt);
}

/** What a status is called on the page. */
export function statusLabel(status: DeploymentView['status'] | 'pending' | 'unfinished' | 'started' | 'skipped'): string {
  return status.replace('_', ' ');
}

/** `reload (automation, script)`, `restart`, `none`. */
export function activationLabel(d: DeploymentView): string {
  const summary = d.summary;
  if (!summary) return '—';
  if (summary.activation === 'reload') return summary.reloadedDomains.length ? `reload (${summary.reloadedDomains.join(', ')})` : 'reload';
  return summary.activation;
}

/** One line that names a deployment in a confirmation: `dep_… (abc1234 'message')`. */
export function describeDeployment(d: Pick<DeploymentView, 'id' | 'sha' | 'message'>): string {
  const message = firstLine(d.message);
  return `${d.id} (${shortSha(d.sha)}${message ? ` '${message}'` : ''})`;
}

/** `512 B`, `3.4 kB`, `12 MB`: a backup's size (powers of 1000, as `ls -h --si` writes them). */
export function byteSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** A git ref as people say it: `main` for a branch, `tag v1.2` for a tag, anything else as it is. */
export function shortRef(ref: string): string {
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  if (ref.startsWith('refs/tags/')) return `tag ${ref.slice('refs/tags/'.length)}`;
  return ref;
}

/** `push`, `workflow_run (completed)`, `repository_dispatch (deploy-home)`; `—` without the header. */
export function eventLabel(event: string | null, action: string | null): string {
  if (!event) return '—';
  return action ? `${event} (${action})` : event;
}
