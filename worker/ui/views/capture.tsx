/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Captures on the target page (issue 17): the operator's "Capture these edits" control, and the
// recent captures with what each pushed and the pull request GitHub made of it.
import type { CaptureView } from '../../hub/capture-store.ts';
import { Badge, ShaLink, Time } from './parts.tsx';

const STATE: Record<CaptureView['status'], string> = {
  queued: 'queued',
  sent: 'running',
  pushed: 'succeeded',
  nothing_to_capture: 'superseded',
  failed: 'failed',
};

/** A link only to a web page: the URL comes from GitHub's answer. */
function safeHref(url: string | null): string | null {
  return url && /^https?:\/\//.test(url) ? url : null;
}

export function CaptureControl(props: { target: string }) {
  return (
    <form method="get" action={`/targets/${props.target}/capture`} data-control="capture">
      <button type="submit">Capture these edits…</button>
    </form>
  );
}

export function CapturesPanel(props: { repo: string; captures: CaptureView[]; now: number }) {
  if (!props.captures.length) return null;
  return (
    <section class="card" id="captures">
      <h2>Captures</h2>
      <p class="muted small">Edits made on the host, pushed as a branch of the repository for a pull request.</p>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Capture</th>
              <th>Asked</th>
              <th>Outcome</th>
              <th>Files</th>
              <th>Pull request</th>
            </tr>
          </thead>
          <tbody>
            {props.captures.map((c) => {
              const pull = safeHref(c.pullRequestUrl);
              return (
                <tr data-capture={c.id} data-status={c.status}>
                  <td class="id" data-label="Capture">
                    <code>{c.id}</code>
                  </td>
                  <td data-label="Asked">
                    <Time at={c.requestedAt} now={props.now} /> <span class="muted small">by {c.requestedBy}</span>
                  </td>
                  <td data-label="Outcome">
                    <Badge state={STATE[c.status]} text={c.status.replaceAll('_', ' ')} />
                    {c.branch ? (
                      <div class="small">
                        <code>{c.branch}</code>
                        {c.commit ? (
                          <>
                            {' '}
                            <ShaLink repo={props.repo} sha={c.commit} />
                          </>
                        ) : null}
                      </div>
                    ) : null}
                    {c.reason ? <div class="muted small">{c.reason}</div> : null}
                  </td>
                  <td data-label="Files">
                    {c.files.length ? (
                      <ul class="files small">
                        {c.files.map((f) => (
                          <li>
                            {f.change} <code>{f.path}</code>
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <span class="muted">-</span>
                    )}
                  </td>
                  <td data-label="Pull request">{pull ? <a href={pull}>{pull.replace(/^https?:\/\/[^/]+\//, '')}</a> : <span class="muted">-</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
