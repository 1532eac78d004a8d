/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The status page's restart window panel (issue 18): the target's windows on the house's clock,
// whether one is open, when the next opens, and each deployment checked and put back that waits for
// it, with its reason and, for operators, "Restart now" (a confirmation page first).
import type { RestartWindowView } from '../../../shared/api.ts';
import { Badge, Commit } from './parts.tsx';

export function RestartWindowPanel(props: { target: string; repo: string; view: RestartWindowView | null; operator: boolean }) {
  const { view } = props;
  if (!view) return null;
  const base = `/targets/${props.target}`;
  return (
    <section class="card" id="restart-window" data-restart-window={view.open ? 'open' : 'shut'}>
      <h2>Restart window</h2>
      <p class="small">
        Home Assistant may be restarted during <strong>{view.windows.join(', ')}</strong> ({view.timeZone}):{' '}
        {view.open ? 'open now.' : view.nextOpeningLocal ? `shut now; opens ${view.nextOpeningLocal}.` : 'shut now; no opening within eight days.'} Changes that need
        only reloads deploy at once.
      </p>
      {view.relayKeepsWindows === false ? (
        <p class="small" data-window-not-kept>
          <Badge state="failed" text="not kept" /> The connected relay is too old to hold a restart: it restarts Home Assistant at any hour. Update it to keep the window.
        </p>
      ) : null}
      {view.waiting.length ? (
        <ul class="files" data-waiting-for-window>
          {view.waiting.map((d) => (
            <li data-deployment={d.id}>
              <Badge state="waiting_for_window" text="waiting for window" />{' '}
              <a href={`${base}?deployment=${encodeURIComponent(d.id)}`}>
                <code>{d.id}</code>
              </a>{' '}
              <Commit repo={props.repo} sha={d.sha} message={d.message} />
              <div class="small" data-reason>
                {d.reason}
              </div>
              {props.operator ? (
                <a data-action="restart-now" href={`${base}/restart-now?deploymentId=${encodeURIComponent(d.id)}`}>
                  Restart now…
                </a>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
