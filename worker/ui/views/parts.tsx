/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Small pieces every view uses: a status badge, a time, a commit with its GitHub link. Text that
// came from a commit or a file name is only ever passed as a child or an attribute, which hono/jsx
// escapes.
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

/** The last item of a path list the relay cut short (a first deploy of thousands of files). */
export function MorePaths(props: { shown: number; total: number }) {
  const more = props.total - props.shown;
  return more > 0 ? <li class="muted">… and {more} more</li> : null;
}
