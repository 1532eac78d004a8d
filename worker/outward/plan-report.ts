// What a pull request's plan says on GitHub: the check run's conclusion, title and markdown summary
// (or, with a token that cannot make check runs, a commit status's state and one line). Pure: the hub
// hands it a plan, the outbox sends what it returns (plan-checks.ts).
//
//   plan                                   check run conclusion   commit status
//   queued / sent                          queued / in_progress   pending
//   reloads only, or nothing to do         success                success
//   needs a restart of Home Assistant      neutral                success ("will restart")
//   conflicts with edits on the host       failure                failure
//   refused paths (with their fixes)       failure                failure
//   could not be made (git, host)          neutral                error
//   from a fork: never fetched or planned  neutral                error
//   superseded by a newer push             neutral                error
import { shortSha } from '../../shared/commit.ts';
import type { PullPlanView } from '../hub/pull-plan-store.ts';

export type CheckConclusion = 'success' | 'neutral' | 'failure';
export type CommitStatusState = 'pending' | 'success' | 'failure' | 'error';

export interface PlanReport {
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: CheckConclusion | null;
  title: string;
  summary: string;
  /** The commit status's state and one-line description, for a token that cannot make check runs. */
  statusState: CommitStatusState;
  statusLine: string;
}

/** GitHub's limit on a check run's summary. */
const MAX_SUMMARY_CHARS = 65_535;

/** The check run's name on the pull request. */
export function checkRunName(target: string): string {
  return `Lanyard plan (${target})`;
}

/** The commit status's context, for a token that cannot make check runs. */
export function statusContext(target: string): string {
  return `lanyard/plan/${target}`;
}

/** Markdown that shows a path as it is, whatever characters it holds. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${text.replace(/[\r\n]+/g, ' ')}${fence}`;
}

function list(paths: readonly string[], count: number): string[] {
  return [...paths.map((p) => `- ${code(p)}`), ...(count > paths.length ? [`- … and ${count - paths.length} more`] : [])];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function planReport(target: string, plan: PullPlanView, newerSha?: string): PlanReport {
  const head = `Pull request #${plan.pullNumber} at ${shortSha(plan.headSha)} into \`${plan.baseBranch}\`, target **${target}**.`;
  const done = (conclusion: CheckConclusion, title: string, lines: string[], statusState: CommitStatusState): PlanReport => ({
    status: 'completed',
    conclusion,
    title,
    summary: clip([head, '', ...lines, '', `<sub>Lanyard plan ${plan.id}. Read-only: nothing was written to the host.</sub>`].join('\n')),
    statusState,
    statusLine: title,
  });
  switch (plan.status) {
    case 'queued':
    case 'sent':
      return {
        status: plan.status === 'queued' ? 'queued' : 'in_progress',
        conclusion: null,
        title: plan.status === 'queued' ? 'Waiting for the relay' : 'The relay is planning',
        summary: `${head}\n\nThe relay plans it against the live host when it is free: a deploy already queued goes first.`,
        statusState: 'pending',
        statusLine: plan.status === 'queued' ? 'Plan waiting for the relay' : 'The relay is planning',
      };
    case 'fork':
      return done('neutral', 'Not planned: the pull request comes from a fork', [
        `Its head is in ${plan.headRepo ? code(plan.headRepo) : 'a repository GitHub no longer knows'}, not in the target's repository. Lanyard never fetches or plans a fork's commits: the relay only reads its own configured remote, and a fork's content is not the owner's to run checks on at home.`,
        '',
        'To see a plan, push the branch to the repository itself and open the pull request from there.',
      ], 'error');
    case 'superseded':
      return done('neutral', 'Superseded by a newer push', [`A newer head${newerSha ? ` (${shortSha(newerSha)})` : ''} of this pull request is planned instead; this one was not.`], 'error');
    case 'closed':
      return done('neutral', 'Not planned: the pull request was closed', [], 'error');
    case 'failed':
      return done('neutral', 'The plan could not be made', [plan.reason ?? plan.result?.reason ?? 'no reason was given', '', 'Nothing is known about what a merge would do; a new push to the pull request tries again.'], 'error');
    default:
      return finishedReport(plan, head, done);
  }
}

function finishedReport(plan: PullPlanView, head: string, done: (c: CheckConclusion, t: string, lines: string[], s: CommitStatusState) => PlanReport): PlanReport {
  const r = plan.result;
  if (!r) return done('neutral', 'The plan could not be made', [plan.reason ?? 'no answer from the relay'], 'error');
  if (r.outcome === 'refused') {
    return done('failure', `Refused: ${plural(r.refusalsCount, 'path')} cannot be deployed safely`, [
      r.reason ?? '',
      '',
      '### Refused, with their fixes',
      '',
      ...r.refusals.map((f) => `- ${code(f.path)}: ${f.problem}`),
      ...(r.refusalsCount > r.refusals.length ? [`- … and ${r.refusalsCount - r.refusals.length} more`] : []),
    ], 'failure');
  }
  if (r.outcome === 'failed') return done('neutral', 'The plan could not be made', [r.reason ?? 'no reason was given'], 'error');
  const files = [
    `### Files to write (${r.toWriteCount})`, '', ...(r.toWriteCount ? list(r.toWrite, r.toWriteCount) : ['- none']), '',
    `### Files to delete (${r.toDeleteCount})`, '', ...(r.toDeleteCount ? list(r.toDelete, r.toDeleteCount) : ['- none']), '',
  ];
  const activation = r.activation === 'restart'
    ? ['### Home Assistant will restart', '', ...r.activationReasons.filter((a) => a.need === 'restart').map((a) => `- ${code(a.path)}: ${a.why}`)]
    : r.activation === 'reload'
      ? [`### Reloads: ${r.reloadDomains.map(code).join(', ')}`, '', ...r.activationReasons.map((a) => `- ${code(a.path)}: ${a.why}`)]
      : ['### Nothing to reload or restart'];
  const merged = r.merged.length ? ['', '### Merged with edits made on the host', '', ...list(r.merged, r.merged.length)] : [];
  if (r.conflictsCount) {
    return done('failure', `Conflicts with ${plural(r.conflictsCount, 'file')} edited on the host`, [
      '### Conflicts with edits made on the host', '',
      ...r.conflicts.map((c) => `- ${code(c.path)}: ${c.why}`),
      ...(r.conflictsCount > r.conflicts.length ? [`- … and ${r.conflictsCount - r.conflicts.length} more`] : []),
      '',
      'A deploy of this merge stops on them (the drift policy `stop`) until they are captured into the repository or overwritten.',
      '', ...files, ...activation, ...merged,
    ], 'failure');
  }
  const changes = `${plural(r.toWriteCount, 'file')} to write, ${plural(r.toDeleteCount, 'file')} to delete`;
  if (r.activation === 'restart') return done('neutral', `${changes}; Home Assistant will restart`, [...files, ...activation, ...merged], 'success');
  const title = r.activation === 'reload' ? `${changes}; reloads ${r.reloadDomains.join(', ')}` : `${changes}; nothing to reload`;
  return done('success', title, [...files, ...activation, ...merged], 'success');
}

function clip(text: string): string {
  return text.length <= MAX_SUMMARY_CHARS ? text : `${text.slice(0, MAX_SUMMARY_CHARS - 40)}\n\n… (cut to GitHub's limit)`;
}
