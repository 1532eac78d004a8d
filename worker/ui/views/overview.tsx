/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// `/`: every target the reader may see, each with what it is doing, its relay, the deployed commit,
// drift and the last result. `OverviewLive` is also the fragment `/live` that refreshes it.
import type { TargetSummary } from '../target-data.ts';
import { Layout, type Viewer } from './layout.tsx';
import { TargetFacts } from './target-state.tsx';

export function OverviewLive(props: { summaries: TargetSummary[]; now: number; signedIn: boolean }) {
  if (!props.summaries.length) {
    return <p class="muted">{props.signedIn ? 'No targets are configured.' : 'No target is public. Sign in to see yours.'}</p>;
  }
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
          <TargetFacts repo={target.repo} status={status} currentSteps={currentSteps} now={props.now} />
        </section>
      ))}
    </div>
  );
}

export function OverviewPage(props: { summaries: TargetSummary[]; now: number; nonce: string; viewer: Viewer }) {
  return (
    <Layout
      title="Targets"
      nonce={props.nonce}
      viewer={props.viewer}
      watch={props.summaries.map((s) => `/targets/${s.target.name}/watch`)}
      fragment="/live"
      here="/"
    >
      <h1>Targets</h1>
      <div id="live">
        <OverviewLive summaries={props.summaries} now={props.now} signedIn={props.viewer.principal !== null} />
      </div>
    </Layout>
  );
}
