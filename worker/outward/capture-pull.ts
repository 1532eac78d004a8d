// The pull request a pushed capture opens (or updates): head = the capture's branch, base = the
// target's branch, and a body that says what the host changed, on which deployed commit, when and
// at whose request, and what to do with it. Pure: the hub hands it a capture, the outbox sends it.
import type { TargetConfig } from '../config/targets.ts';
import type { CaptureView } from '../hub/capture-store.ts';
import type { OutboxMessage } from './announcements.ts';

export interface PullRequestPayload {
  repo: string;
  captureId: string;
  /** The branch GitHub compares, as pushed (without the owner). */
  head: string;
  base: string;
  title: string;
  body: string;
}

const CHANGE_WORDS = { modified: 'modified', added: 'added', deleted: 'deleted' } as const;

/** Markdown that shows a path as it is, whatever characters it holds. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${text.replace(/\r?\n/g, ' ')}${fence}`;
}

export function pullRequestTitle(target: string, branch: string): string {
  return `Host edits on ${target} (${branch.slice(branch.lastIndexOf('/') + 1)})`;
}

export function pullRequestBody(target: TargetConfig, capture: CaptureView): string {
  const base = capture.base ?? 'unknown';
  const lines = [
    `Lanyard captured edits made on the Home Assistant host of target **${target.name}** since the last deploy.`,
    '',
    `- Deployed commit they sit on: ${base}`,
    `- Captured: ${new Date(capture.finishedAt ?? capture.requestedAt).toISOString()}, asked by ${code(capture.requestedBy)} (${capture.trigger === 'manual' ? 'by hand' : capture.trigger === 'auto' ? '`capture: auto`' : capture.trigger === 'merged' ? 'a deploy merged host edits' : 'the `capture` drift choice'})`,
    `- Commit: ${capture.commit ?? 'unknown'} on ${code(capture.branch ?? '')}`,
    '',
    `### Files (${capture.total})`,
    '',
    ...capture.files.map((f) => `- ${CHANGE_WORDS[f.change]}: ${code(f.path)}`),
    ...(capture.total > capture.files.length ? [`- … and ${capture.total - capture.files.length} more (see the commit)`] : []),
    '',
    '### What to do',
    '',
    `Review the changes and merge this pull request into \`${target.branch}\`. The next deploy then finds the host and the commit equal, and rewrites none of these files.`,
    'If you do not want them, close it: the next deploy stops on the drift again (or overwrites, as the target\'s drift policy says).',
    '',
    `<sub>Lanyard capture ${capture.id}. Secrets, \`.storage/\` and the other protected paths are never read or pushed.</sub>`,
  ];
  return lines.join('\n');
}

/** The outbox message that opens (or updates) the pull request for a pushed capture. */
export function capturePullRequest(target: TargetConfig, capture: CaptureView): OutboxMessage {
  const payload: PullRequestPayload = {
    repo: target.repo,
    captureId: capture.id,
    head: capture.branch!,
    base: target.branch,
    title: pullRequestTitle(target.name, capture.branch!),
    body: pullRequestBody(target, capture),
  };
  return { channel: 'github', kind: 'github.pull', deploymentId: capture.id, what: `pull request for ${capture.branch}`, payload };
}
