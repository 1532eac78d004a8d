/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The frame of every page: head with viewport and colour-scheme, the inlined stylesheet and script
// (both by nonce: they are constants of this file, never data), who is signed in, and `main`.
import type { Child } from 'hono/jsx';
import type { Principal } from '../../http/auth.ts';
import { LIVE_SCRIPT } from '../live-script.ts';
import { STYLES } from '../styles.ts';

export interface Viewer {
  principal: Principal | null;
  /** The session's CSRF token for forms, when signed in. */
  csrf: string | null;
  /** False when SESSION_SECRET is missing or unfit: the link then leads to why. */
  canSignIn: boolean;
}

export interface LayoutProps {
  title: string;
  nonce: string;
  viewer: Viewer;
  /** Watcher paths (`/targets/<name>/watch`) whose changes refresh `#live` from `fragment`. */
  watch?: string[];
  fragment?: string;
  /** Where the sign-in link brings the reader back to. */
  here?: string;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  const { viewer } = props;
  const live = props.watch?.length && props.fragment;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · Lanyard`}</title>
        <link rel="icon" href="data:," />
        <style nonce={props.nonce} dangerouslySetInnerHTML={{ __html: STYLES }} />
      </head>
      <body data-watch={live ? props.watch!.join(' ') : undefined} data-fragment={live ? props.fragment : undefined}>
        <header class="bar">
          <a class="brand" href="/">Lanyard</a>
          <nav>
            {live ? <span id="live-state" class="live-state" data-state="static">not live</span> : null}
            {viewer.principal ? (
              <>
                <span class="small" data-signed-in={viewer.principal.name}>
                  {viewer.principal.name} <span class="muted">({viewer.principal.role})</span>
                </span>
                <form method="post" action="/sign-out">
                  <input type="hidden" name="csrf" value={viewer.csrf ?? ''} />
                  <button class="link" type="submit">Sign out</button>
                </form>
              </>
            ) : viewer.canSignIn ? (
              <a href={props.here && props.here !== '/' ? `/sign-in?next=${encodeURIComponent(props.here)}` : '/sign-in'}>Sign in</a>
            ) : (
              // The sign-in page says why it is off and what to set.
              <a href="/sign-in" data-sign-in-off>
                Sign-in is off
              </a>
            )}
          </nav>
        </header>
        <main>{props.children}</main>
        <script nonce={props.nonce} dangerouslySetInnerHTML={{ __html: LIVE_SCRIPT }} />
      </body>
    </html>
  );
}
