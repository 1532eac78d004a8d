/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Small pieces every view uses: a status badge, a time, a commit with its GitHub link. Text that
// came from a commit or a file name is only ever passed as a child or an attribute, which hono/jsx
// escapes.
import { pathCount, type DeploymentSummary } from '../../../shared/deployment.ts';
import { ago, commitUrl, firstLine, shortSha, utcTime } from '../format.ts';

export function Badge(props: { state: string; text?: string }) {
  return (
    <span class={`badge ${props.state}`} data-badge={props.state}>
      {props.text ?? props.state.replace('_', ' ')}
    </span>
  );
}

export function Time(props: { at: number; now?: number }) {
  return (
    <>
      <time datetime={new Date(props.at).toISOString()}>{utcTime(props.at)}</time>
      {props.now !== undefined ? <span class="muted small"> ({ago(props.at, props.now)})</span> : null}
    </>
  );
}

export function ShaLink(props: { repo: string; sha: string }) {
  return (
    <a class="sha" href={commitUrl(props.repo, props.sha)} rel="noopener noreferrer" title={props.sha}>
      {shortSha(props.sha)}
    </a>
  );
}

/** A commit as one line: linked sha, the message's first line, and the author when known. */
export function Commit(props: { repo: string; sha: string; message: string; author?: string | null }) {
  const message = firstLine(props.message);
  return (
    <span class="commit">
      <ShaLink repo={props.repo} sha={props.sha} />{' '}
      {message ? <span class="message" data-commit-message>{message}</span> : null}
      {props.author ? <span class="muted"> — {props.author}</span> : null}
    </span>
  );
}

/**
 * One path list of a deployment's summary as list items, each path with an optional note, and
 * "… and N more" when the relay cut the list short (a first deploy of thousands of files).
 */
export function PathItems(props: { summary: DeploymentSummary; list: 'filesChanged' | 'filesDeleted'; note?: string }) {
  const paths = props.summary[props.list];
  const more = pathCount(props.summary, props.list) - paths.length;
  return (
    <>
      {paths.map((f) => (
        <li>
          <code>{f}</code>
          {props.note ? <> <span class="muted">{props.note}</span></> : null}
        </li>
      ))}
      {more > 0 ? <li class="muted">… and {more} more</li> : null}
    </>
  );
}
