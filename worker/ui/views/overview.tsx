/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// `/`: every target the reader may see, each with what it is doing, its relay, the deployed commit,
// drift and the last result; for a signed-in reader, whether GitHub's webhook reaches the edge with
// the right secret. `OverviewLive` is also the fragment `/live` that refreshes it.
import type { WebhookHealth } from '../../ledger/webhook-health.ts';
import type { LedgerRead } from '../ledger-data.ts';
import type { TargetSummary } from '../target-data.ts';
import { FrozenLine } from './freeze.tsx';
import { Layout, type Viewer } from './layout.tsx';
import { TargetFacts } from './target-state.tsx';
import { WebhookHealthNote } from './webhook-health.tsx';

export interface OverviewData {
  summaries: TargetSummary[];
  /** From the delivery ledger; null for a reader who is not signed in, who never sees it. */
  webhooks: LedgerRead<WebhookHealth> | null;
}

export function OverviewLive(props: { data: OverviewData; now: number; signedIn: boolean }) {
  const health = props.data.webhooks ? <WebhookHealthNote health={props.data.webhooks} now={props.now} /> : null;
  if (!props.data.summaries.length) {
    return (
      <>
        {health}
        <p class="muted">{props.signedIn ? 'No targets are configured.' : 'No target is public. Sign in to see yours.'}</p>
      </>
    );
  }
  return (
    <>
      {health}
      <Targets summaries={props.data.summaries} now={props.now} />
    </>
  );
}

function Targets(props: { summaries: TargetSummary[]; now: number }) {
  return (
    <div class="targets">
      {props.summaries.map(({ target, status, currentSteps }) => (
        <section class="card" data-target={target.name}>
          <div class="target-head">
            <h2>
              <a href={`/targets/${target.name}`}>{target.name}</a>
            </h2>
            <span class="muted small">
              {target.repo}@{target.branch} · {target.environment}
              {target.publicReadOnly ? ' · public' : ''}
            </span>
          </div>
          <FrozenLine freeze={status.freeze ?? null} />
          <TargetFacts repo={target.repo} status={status} currentSteps={currentSteps} now={props.now} />
        </section>
      ))}
    </div>
  );
}

export function OverviewPage(props: { data: OverviewData; now: number; nonce: string; viewer: Viewer }) {
  return (
    <Layout
      title="Targets"
      nonce={props.nonce}
      viewer={props.viewer}
      watch={props.data.summaries.map((s) => `/targets/${s.target.name}/watch`)}
      fragment="/live"
      here="/"
    >
      <h1>Targets</h1>
      <div id="live">
        <OverviewLive data={props.data} now={props.now} signedIn={props.viewer.principal !== null} />
      </div>
    </Layout>
  );
}
