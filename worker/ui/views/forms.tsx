/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Pages around an action: the confirmation that names exactly what will happen (and carries the
// session's CSRF token), the sign-in form, and the page that says why something was refused.
import type { Child } from 'hono/jsx';
import { Layout, type Viewer } from './layout.tsx';

export interface Confirmation {
  title: string;
  /** The question, naming the target and what it will run, e.g. "Roll back home to dep_… (abc1234 'message')?" */
  question: string;
  details?: Child;
  action: string;
  fields: Record<string, string>;
  button: string;
  danger?: boolean;
  back: string;
}

export function ConfirmPage(props: { confirmation: Confirmation; csrf: string; viewer: Viewer; nonce: string }) {
  const c = props.confirmation;
  return (
    <Layout title={c.title} nonce={props.nonce} viewer={props.viewer}>
      <section class="card confirm" data-confirm>
        <h1>{c.title}</h1>
        <p class="question" data-question>
          {c.question}
        </p>
        {c.details ?? null}
        <form method="post" action={c.action}>
          <input type="hidden" name="csrf" value={props.csrf} />
          {Object.entries(c.fields).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <div class="buttons">
            <button class={c.danger ? 'danger' : 'primary'} type="submit" data-confirm-button>
              {c.button}
            </button>
            <a class="button" href={c.back}>
              Go back
            </a>
          </div>
        </form>
      </section>
    </Layout>
  );
}

export function SignInPage(props: { csrf: string | null; next: string; problem?: string; disabledBecause?: string; viewer: Viewer; nonce: string }) {
  return (
    <Layout title="Sign in" nonce={props.nonce} viewer={props.viewer}>
      <section class="card sign-in">
        <h1>Sign in</h1>
        {props.disabledBecause ? (
          <p class="notice">{props.disabledBecause}</p>
        ) : (
          <form method="post" action="/sign-in">
            <p class="muted small">With an API token of this edge. The page keeps a signed session cookie for 8 hours; the token itself is not stored.</p>
            {props.problem ? (
              <p class="error" role="alert" data-problem>
                {props.problem}
              </p>
            ) : null}
            <input type="hidden" name="csrf" value={props.csrf ?? ''} />
            <input type="hidden" name="next" value={props.next} />
            <div>
              <label for="token">API token</label>
              <input id="token" type="password" name="token" autocomplete="current-password" required />
            </div>
            <button class="primary" type="submit">
              Sign in
            </button>
          </form>
        )}
      </section>
    </Layout>
  );
}

export function MessagePage(props: { title: string; message: string; code?: string; back?: string; viewer: Viewer; nonce: string }) {
  return (
    <Layout title={props.title} nonce={props.nonce} viewer={props.viewer}>
      <section class="card confirm" data-refusal={props.code}>
        <h1>{props.title}</h1>
        <p class="error" data-message>
          {props.message}
        </p>
        <p>
          <a href={props.back ?? '/'}>{props.back && props.back !== '/' ? 'Back' : 'All targets'}</a>
        </p>
      </section>
    </Layout>
  );
}

/** What a browser gets when it arrives from another site without its SameSite=Strict cookie: one same-origin hop, which carries it. */
export function BouncePage(props: { to: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content={`0;url=${props.to}`} />
        <title>Opening… · Lanyard</title>
      </head>
      <body>
        <p>
          <a href={props.to}>Continue</a>
        </p>
      </body>
    </html>
  );
}
