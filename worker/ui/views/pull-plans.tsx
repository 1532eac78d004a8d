/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Open pull requests' plans on the target page (issue 20): for each open pull request into the
// target's branch, the newest head's plan — what a merge would write and delete, whether Home
// Assistant reloads or restarts, conflicts with edits made on the host, refused paths — as its check
// run on GitHub says it.
import type { PullPlanView } from '../../hub/pull-plan-store.ts';
import { Badge, ShaLink, Time } from './parts.tsx';

/** The badge each plan shows, in the page's existing colours. */
function badgeOf(p: PullPlanView): { state: string; text: string } {
  if (p.status === 'queued') return { state: 'queued', text: 'waiting for the relay' };
  if (p.status === 'sent') return { state: 'running', text: 'planning' };
  if (p.status === 'fork') return { state: 'superseded', text: 'fork: not planned' };
  if (p.status === 'refused') return { state: 'failed', text: 'refused' };
  if (p.status === 'failed') return { state: 'failed', text: 'no plan' };
  if (p.status !== 'planned' || !p.result) return { state: 'superseded', text: p.status };
  if (p.result.conflictsCount) return { state: 'failed', text: 'conflicts' };
  if (p.result.activation === 'restart') return { state: 'queued', text: 'restarts HA' };
  return { state: 'succeeded', text: p.result.activation === 'reload' ? 'reloads' : 'no reload' };
}

function PlanDetail(props: { plan: PullPlanView }) {
  const r = props.plan.result;
  if (!r || r.outcome !== 'planned') return <span class="small">{props.plan.reason ?? r?.reason ?? ''}</span>;
  return (
    <div class="small">
      <div>
        {r.toWriteCount} to write, {r.toDeleteCount} to delete
        {r.activation === 'reload' ? `; reloads ${r.reloadDomains.join(', ')}` : r.activation === 'restart' ? '; restarts Home Assistant' : ''}
      </div>
      {r.toWrite.length ? <div class="muted">{r.toWrite.slice(0, 10).join(', ')}{r.toWriteCount > 10 ? ', …' : ''}</div> : null}
      {r.conflicts.length ? (
        <ul>
          {r.conflicts.slice(0, 10).map((c) => (
            <li>
              <code>{c.path}</code>: {c.why}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function PullPlansPanel(props: { repo: string; plans: PullPlanView[]; now: number }) {
  if (!props.plans.length) return null;
  return (
    <section class="card" id="pull-plans">
      <h2>Pull request plans</h2>
      <p class="muted small">What merging each open pull request would do to the house, planned read-only against the live host.</p>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Pull request</th>
              <th>Head</th>
              <th>Plan</th>
              <th>What a merge does</th>
            </tr>
          </thead>
          <tbody>
            {props.plans.map((p) => {
              const badge = badgeOf(p);
              return (
                <tr data-plan={p.id} data-pull={p.pullNumber} data-status={p.status}>
                  <td data-label="Pull request">
                    #{p.pullNumber} {p.title} <span class="muted small">{p.author ? `by ${p.author}` : ''}</span>
                  </td>
                  <td data-label="Head">
                    <ShaLink repo={props.repo} sha={p.headSha} /> <span class="muted small"><Time at={p.requestedAt} now={props.now} /></span>
                  </td>
                  <td data-label="Plan">
                    <Badge state={badge.state} text={badge.text} />
                  </td>
                  <td data-label="What a merge does">
                    <PlanDetail plan={p} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
