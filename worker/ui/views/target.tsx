/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// `/targets/:name`: the target's state, the progress of the running (or chosen) deployment, the
// recent webhook deliveries of its repository, the metrics and the history. Everything in `#live`
// is also the fragment `/targets/:name/live`, which the page's script swaps in whenever the hub
// says something changed. Operators get the controls, outside `#live` so a refresh never wipes what
// they are typing.
import { TagTriggerSummary } from './release-tag.tsx';
import type { DeploymentView } from '../../../shared/api.ts';
import { roleAllows } from '../../http/auth.ts';
import { TargetFacts } from './target-state.tsx';
import { BackupsPanel } from './backups.tsx';
import { CaptureControl, CapturesPanel } from './capture.tsx';
import { PullPlansPanel } from './pull-plans.tsx';
import { DeliveriesPanel } from './deliveries.tsx';
import { DeploymentPanel } from './deployment.tsx';
import { DriftPanel, DriftWaysOn } from './drift.tsx';
import { FirstRunChecklist } from './first-run.tsx';
import { FreezeBanner, FreezeControl } from './freeze.tsx';
import { VersionWarning } from './version-warning.tsx';
import { HistoryTable } from './history.tsx';
import { Layout, type Viewer } from './layout.tsx';
import { MetricsPanel } from './metrics.tsx';
import { RestartWindowPanel } from './restart-window.tsx';
import type { TargetDeliveries } from '../ledger-data.ts';
import { METRICS_DAYS, type TargetPage as TargetPageData } from '../target-data.ts';
import { Badge, Commit } from './parts.tsx';

/**
 * Where an operator may try the chosen deployment again: the newest of the target (the first row of
 * an unpaged history), a deploy that failed or was rolled back. The hub decides again on the way.
 */
function retryHref(props: { page: TargetPageData; operator: boolean; paged: boolean }, d: DeploymentView): string | null {
  const newest = props.paged ? null : props.page.history[0];
  if (!props.operator || newest?.id !== d.id || d.kind !== 'deploy' || (d.status !== 'failed' && d.status !== 'rolled_back')) return null;
  return `/targets/${props.page.target.name}/retry?deploymentId=${encodeURIComponent(d.id)}`;
}

export function TargetLive(props: { page: TargetPageData; deliveries: TargetDeliveries; operator: boolean; paged: boolean; now: number }) {
  const { page, now } = props;
  const { target, status } = page;
  const base = `/targets/${target.name}`;
  const inventory = status.backups ?? null;
  return (
    <>
      {/* First run and versions: their own components (first-run.tsx, version-warning.tsx). */}
      {page.history.length === 0 && !props.paged ? <FirstRunChecklist status={status} deliveries={props.deliveries} /> : null}
      <FreezeBanner target={target.name} freeze={status.freeze ?? null} queued={status.queued.length} operator={props.operator} now={now} />
      <VersionWarning relay={status.relay} />
      <section class="card" id="now">
        <h2>Now</h2>
        <TargetFacts repo={target.repo} status={status} currentSteps={page.currentSteps} now={now} />
        {status.queued.length ? (
          <>
            <h3>Queued</h3>
            <ul class="files" data-queued>
              {status.queued.map((q) => (
                <li data-deployment={q.id}>
                  <a href={`${base}?deployment=${encodeURIComponent(q.id)}`}>
                    <code>{q.id}</code>
                  </a>{' '}
                  <Commit repo={target.repo} sha={q.sha} message={q.message} /> <span class="muted small">({q.kind}, {q.actor})</span>
                  {props.operator ? (
                    <>
                      {' '}
                      <a data-action="cancel" href={`${base}/cancel?deploymentId=${encodeURIComponent(q.id)}`}>
                        Cancel
                      </a>
                    </>
                  ) : null}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </section>
      <RestartWindowPanel target={target.name} repo={target.repo} view={status.restartWindow ?? null} operator={props.operator} />
      <DriftPanel target={target.name} repo={target.repo} drift={status.drift ?? null} stoppedOnDrift={status.stoppedOnDrift ?? null} operator={props.operator} now={now} />
      {page.selected ? (
        <DeploymentPanel
          repo={target.repo}
          detail={page.selected}
          homeAssistantUrl={target.environmentUrl}
          pinned={page.pinned}
          retryHref={retryHref(props, page.selected.deployment)}
          driftWaysOn={status.stoppedOnDrift === page.selected.deployment.id ? <DriftWaysOn target={target.name} deploymentId={page.selected.deployment.id} operator={props.operator} /> : null}
          now={now}
        />
      ) : null}
      <DeliveriesPanel target={target.name} deliveries={props.deliveries} now={now} />
      <CapturesPanel repo={target.repo} captures={page.captures} now={now} />
      <PullPlansPanel repo={target.repo} plans={page.pullPlans ?? []} now={now} />
      <MetricsPanel metrics={page.metrics} days={METRICS_DAYS} />
      <BackupsPanel target={target.name} repo={target.repo} inventory={inventory} operator={props.operator} now={now} />
      <HistoryTable
        target={target.name}
        repo={target.repo}
        history={page.history}
        selectedId={page.selected?.deployment.id ?? null}
        olderBefore={page.olderBefore}
        paged={props.paged}
        operator={props.operator}
        inventory={inventory}
        now={now}
      />
    </>
  );
}

export function TargetPageView(props: {
  page: TargetPageData;
  deliveries: TargetDeliveries;
  viewer: Viewer;
  operator: boolean;
  fragment: string;
  here: string;
  paged: boolean;
  nonce: string;
  now: number;
}) {
  const { page } = props;
  const { target, status } = page;
  const base = `/targets/${target.name}`;
  return (
    <Layout title={target.name} nonce={props.nonce} viewer={props.viewer} watch={[`${base}/watch`]} fragment={props.fragment} here={props.here}>
      <h1>
        {target.name} <span class="muted small">{target.repo}@{target.branch} · {target.environment}
          <TagTriggerSummary target={target} />
        </span>
      </h1>
      {props.operator ? (
        <section class="card" id="controls">
          <h2>Controls</h2>
          <div class="controls">
            <form method="get" action={`${base}/deploy`} data-control="deploy">
              <div>
                <label for="deploy-sha">Commit to deploy (empty: the head of {target.branch})</label>
                <input id="deploy-sha" class="sha-input" type="text" name="sha" inputmode="text" autocomplete="off" spellcheck={false} placeholder={status.branchHead?.sha ?? 'commit sha (7 or more hex digits)'} />
              </div>
              <button class="primary" type="submit">
                Deploy…
              </button>
            </form>
            <form method="get" action={`${base}/rollback`} data-control="rollback">
              <button type="submit">Roll back to the previous deployment…</button>
            </form>
            <CaptureControl target={target.name} />
            <FreezeControl target={target.name} frozen={Boolean(status.freeze)} />
          </div>
          <p class="muted small">
            Every action asks for a confirmation first. To go back to a particular deployment or backup, use its row in the history or in Backups.
          </p>
        </section>
      ) : props.viewer.principal ? (
        <p class="muted small" data-no-controls>
          {props.viewer.principal.name} is a {props.viewer.principal.role}: the page shows no controls.
        </p>
      ) : (
        <p class="muted small" data-no-controls>
          <Badge state="public" text="read only" /> Sign in as an operator to deploy or roll back.
        </p>
      )}
      {props.viewer.principal && roleAllows(props.viewer.principal.role, 'admin') ? (
        <p class="small">
          <a href={`${base}/audit`} data-link="audit">
            Audit trail
          </a>
        </p>
      ) : null}
      <div id="live">
        <TargetLive page={page} deliveries={props.deliveries} operator={props.operator} paged={props.paged} now={props.now} />
      </div>
    </Layout>
  );
}
