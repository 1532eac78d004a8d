/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The status page: server-rendered HTML, a signed session cookie, and live updates through the
// hub's watcher socket. Reads use the hub methods the REST API uses; actions go through the same
// hub methods, after an origin check, the session's CSRF token and `requireRole`, with the
// signed-in token's name as the actor. Every action is a GET confirmation page, then a POST.
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DeploymentView } from '../../shared/api.ts';
import { DeployRequest } from '../../shared/api.ts';
import { findTarget, loadTargets, type TargetConfig } from '../config/targets.ts';
import { requireRole, type AppContext } from '../http/access.ts';
import { logAccess, logRefusal } from '../http/access-audit.ts';
import { identify, roleAllows } from '../http/auth.ts';
import { readLimitedBody } from '../http/body-limit.ts';
import { ApiError } from '../http/errors.ts';
import { requestSource } from '../http/request-source.ts';
import { validate } from '../http/validate.ts';
import { hubFor } from '../hub/hub-for.ts';
import { unwrap } from '../hub/hub-result.ts';
import { manualDeploy } from '../hub/requests.ts';
import { sameOrigin } from './csrf.ts';
import { byteSize, describeDeployment, firstLine, shortSha } from './format.ts';
import { newNonce, securityHeaders } from './headers.ts';
import {
  SESSION_COOKIE,
  SESSION_LIFETIME_SECONDS,
  SIGN_IN_COOKIE,
  SIGN_IN_LIFETIME_SECONDS,
  csrfToken,
  csrfTokenMatches,
  issueSession,
  readSession,
  sessionKey,
  signInNonce,
  signInToken,
  signInTokenMatches,
  type Session,
} from './session.ts';
import { deploymentDetail, loadTargetPage, loadTargetSummary } from './target-data.ts';
import { BouncePage, ConfirmPage, MessagePage, SignInPage, type Confirmation } from './views/forms.tsx';
import type { Viewer } from './views/layout.tsx';
import { OverviewLive, OverviewPage } from './views/overview.tsx';
import { Time } from './views/parts.tsx';
import { TargetLive, TargetPageView } from './views/target.tsx';

type UiContext = Context<AppContext>;

export const ui = new Hono<AppContext>();

const FORM_LIMIT_BYTES = 16 * 1024;
const COOKIE_BASE = { httpOnly: true, secure: true, sameSite: 'Strict', path: '/' } as const;
/** Where sign-in may send the reader back to: this site's own pages, nothing else. */
const SAFE_NEXT = /^\/(targets\/[a-z0-9][a-z0-9-]{0,62}(\?deployment=[A-Za-z0-9_]{1,64})?)?$/;

interface Visit {
  key: CryptoKey | null;
  session: Session | null;
  viewer: Viewer;
  nonce: string;
}

/** Who is reading: the session cookie, verified; also sets `principal` for `requireRole`. */
async function visit(c: UiContext): Promise<Visit> {
  const key = await sessionKey(c.env);
  const session = key ? await readSession(key, c.env, getCookie(c, SESSION_COOKIE), Date.now()) : null;
  c.set('principal', session?.principal ?? null);
  const csrf = key && session ? await csrfToken(key, session) : null;
  return { key, session, nonce: newNonce(), viewer: { principal: session?.principal ?? null, csrf, canSignIn: key !== null } };
}

function withHeaders(c: UiContext, nonce: string | null): void {
  for (const [name, value] of Object.entries(securityHeaders(nonce))) c.header(name, value);
}

function page(c: UiContext, nonce: string, node: unknown, status: ContentfulStatusCode = 200) {
  withHeaders(c, nonce);
  return c.html(html`<!doctype html>${node}`, status);
}

function fragment(c: UiContext, node: unknown) {
  withHeaders(c, null);
  return c.html(html`${node}`);
}

function redirect(c: UiContext, to: string) {
  withHeaders(c, null);
  return c.redirect(to, 303);
}

function safeNext(next: string | undefined): string {
  return next && SAFE_NEXT.test(next) ? next : '/';
}

/**
 * A reader who follows a link from another site (GitHub's log_url, Slack) arrives without the
 * SameSite=Strict cookie. One hop from this origin brings it along; after that hop the request is
 * same-origin, so this can never loop.
 */
function bounceIfCrossSite(c: UiContext, v: Visit) {
  if (v.session || getCookie(c, SESSION_COOKIE) !== undefined) return null;
  if (c.req.header('Sec-Fetch-Site') !== 'cross-site' || c.req.header('Sec-Fetch-Mode') !== 'navigate') return null;
  const url = new URL(c.req.url);
  return page(c, v.nonce, <BouncePage to={`${url.pathname}${url.search}`} />);
}

function here(c: UiContext): string {
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

function signInFirst(c: UiContext) {
  return redirect(c, `/sign-in?next=${encodeURIComponent(safeNext(here(c)))}`);
}

/** The fields of a posted form; anything that is not a form reads as empty (and then fails the CSRF check). */
async function readForm(request: Request): Promise<URLSearchParams> {
  const body = await readLimitedBody(request, FORM_LIMIT_BYTES);
  if (!body.ok) throw new ApiError(413, 'too_large', `A form is at most ${FORM_LIMIT_BYTES} bytes.`);
  const type = request.headers.get('Content-Type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return new URLSearchParams();
  return new URLSearchParams(new TextDecoder().decode(body.bytes));
}

/** Every form post: same origin, a signed-in session, and that session's CSRF token. Otherwise 403 and nothing happens. */
async function checkedPost(c: UiContext): Promise<{ form: URLSearchParams; v: Visit; session: Session }> {
  const form = await readForm(c.req.raw);
  const origin = sameOrigin(c.req.raw);
  if (!origin.ok) throw new ApiError(403, 'cross_origin', `Refused: this form was not sent from the status page (${origin.why}). Nothing was done.`);
  const v = await visit(c);
  if (!v.key || !v.session) throw new ApiError(403, 'no_session', 'Refused: this form has no signed-in session behind it (it may have expired). Sign in and try again; nothing was done.');
  if (!(await csrfTokenMatches(v.key, v.session, form.get('csrf') ?? undefined))) {
    throw new ApiError(403, 'csrf', 'Refused: the form\'s CSRF token is missing or belongs to another session. Reload the page and try again; nothing was done.');
  }
  return { form, v, session: v.session };
}

function isOperator(v: Visit): boolean {
  return v.session !== null && roleAllows(v.session.principal.role, 'operator');
}

// ---- pages ----------------------------------------------------------------------------------------

ui.get('/', async (c) => {
  const v = await visit(c);
  const bounce = bounceIfCrossSite(c, v);
  if (bounce) return bounce;
  const targets = loadTargets(c.env.TARGETS).filter((t) => v.session || t.publicReadOnly);
  if (!v.session && !targets.length && v.key) return redirect(c, '/sign-in');
  const summaries = await Promise.all(targets.map((t) => loadTargetSummary(c.env, t)));
  return page(c, v.nonce, <OverviewPage summaries={summaries} now={Date.now()} nonce={v.nonce} viewer={v.viewer} />);
});

ui.get('/live', async (c) => {
  const v = await visit(c);
  const targets = loadTargets(c.env.TARGETS).filter((t) => v.session || t.publicReadOnly);
  if (!v.session && !targets.length) requireRole(c, 'viewer');
  const summaries = await Promise.all(targets.map((t) => loadTargetSummary(c.env, t)));
  return fragment(c, <OverviewLive summaries={summaries} now={Date.now()} signedIn={v.session !== null} />);
});

function pageQuery(c: UiContext): { deploymentId: string | null; before: string | null } {
  return { deploymentId: c.req.query('deployment') || null, before: c.req.query('before') || null };
}

function fragmentPath(target: TargetConfig, query: { deploymentId: string | null; before: string | null }): string {
  const params = new URLSearchParams();
  if (query.deploymentId) params.set('deployment', query.deploymentId);
  if (query.before) params.set('before', query.before);
  const search = params.toString();
  return `/targets/${target.name}/live${search ? `?${search}` : ''}`;
}

ui.get('/targets/:name', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await visit(c);
  const bounce = bounceIfCrossSite(c, v);
  if (bounce) return bounce;
  if (!v.session && !target.publicReadOnly) return signInFirst(c);
  requireRole(c, 'viewer', target);
  const query = pageQuery(c);
  const now = Date.now();
  const data = await loadTargetPage(c.env, target, query, now);
  return page(
    c,
    v.nonce,
    <TargetPageView page={data} viewer={v.viewer} operator={isOperator(v)} fragment={fragmentPath(target, query)} here={here(c)} paged={query.before !== null} nonce={v.nonce} now={now} />,
  );
});

ui.get('/targets/:name/live', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await visit(c);
  requireRole(c, 'viewer', target);
  const query = pageQuery(c);
  const now = Date.now();
  const data = await loadTargetPage(c.env, target, query, now);
  return fragment(c, <TargetLive page={data} operator={isOperator(v)} paged={query.before !== null} now={now} />);
});

/** The page's live channel: the hub's watcher socket, handed over once the reader may see the target. */
ui.get('/targets/:name/watch', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const origin = sameOrigin(c.req.raw);
  if (!origin.ok) throw new ApiError(403, 'cross_origin', `Refused: ${origin.why}.`);
  await visit(c);
  requireRole(c, 'viewer', target);
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') throw new ApiError(426, 'upgrade_required', 'Connect with a WebSocket upgrade.');
  return hubFor(c.env, target.name).fetch(
    new Request(`https://hub/watch?target=${encodeURIComponent(target.name)}&role=watcher`, { headers: { Upgrade: 'websocket' } }),
  );
});

// ---- sign-in --------------------------------------------------------------------------------------

const SIGN_IN_OFF = 'Sign-in is off: this edge has neither SESSION_SECRET nor API_TOKENS to sign sessions with. Set SESSION_SECRET and API_TOKENS with `wrangler secret put`.';

ui.get('/sign-in', async (c) => {
  const v = await visit(c);
  const next = safeNext(c.req.query('next'));
  if (!v.key) return page(c, v.nonce, <SignInPage csrf={null} next={next} disabledBecause={SIGN_IN_OFF} viewer={v.viewer} nonce={v.nonce} />, 503);
  const existing = getCookie(c, SIGN_IN_COOKIE);
  const nonce = existing && /^[A-Za-z0-9_-]{24}$/.test(existing) ? existing : signInNonce();
  setCookie(c, SIGN_IN_COOKIE, nonce, { ...COOKIE_BASE, maxAge: SIGN_IN_LIFETIME_SECONDS });
  const csrf = await signInToken(v.key, nonce);
  return page(c, v.nonce, <SignInPage csrf={csrf} next={next} viewer={v.viewer} nonce={v.nonce} />);
});

ui.post('/sign-in', async (c) => {
  const form = await readForm(c.req.raw);
  const origin = sameOrigin(c.req.raw);
  if (!origin.ok) throw new ApiError(403, 'cross_origin', `Refused: this sign-in was not sent from the sign-in page (${origin.why}).`);
  const v = await visit(c);
  if (!v.key) return page(c, v.nonce, <SignInPage csrf={null} next="/" disabledBecause={SIGN_IN_OFF} viewer={v.viewer} nonce={v.nonce} />, 503);
  const nonce = getCookie(c, SIGN_IN_COOKIE);
  if (!(await signInTokenMatches(v.key, nonce, form.get('csrf') ?? undefined))) {
    throw new ApiError(403, 'csrf', 'Refused: this sign-in form expired or was not sent from the sign-in page. Open the sign-in page again.');
  }
  const next = safeNext(form.get('next') ?? undefined);
  const token = (form.get('token') ?? '').trim();
  const principal = token ? await identify(token, c.env.API_TOKENS) : null;
  if (!principal) {
    const problem = token ? 'That token is not one this edge knows.' : 'Enter an API token to sign in.';
    logAccess(c, 'sign_in.refused', 401, problem, null);
    const csrf = await signInToken(v.key, nonce!);
    return page(c, v.nonce, <SignInPage csrf={csrf} next={next} problem={problem} viewer={v.viewer} nonce={v.nonce} />, 401);
  }
  const session = await issueSession(v.key, principal, token, Date.now());
  setCookie(c, SESSION_COOKIE, session.cookie, { ...COOKIE_BASE, maxAge: SESSION_LIFETIME_SECONDS });
  deleteCookie(c, SIGN_IN_COOKIE, COOKIE_BASE);
  logAccess(c, 'sign_in.succeeded', 303, `${principal.name} signed in (${principal.role}).`, principal.name);
  return redirect(c, next);
});

ui.post('/sign-out', async (c) => {
  const form = await readForm(c.req.raw);
  const origin = sameOrigin(c.req.raw);
  if (!origin.ok) throw new ApiError(403, 'cross_origin', `Refused: this sign-out was not sent from the status page (${origin.why}).`);
  const v = await visit(c);
  if (v.key && v.session && !(await csrfTokenMatches(v.key, v.session, form.get('csrf') ?? undefined))) {
    throw new ApiError(403, 'csrf', 'Refused: the form\'s CSRF token is missing or belongs to another session.');
  }
  deleteCookie(c, SESSION_COOKIE, COOKIE_BASE);
  const name = v.session?.principal.name ?? null;
  logAccess(c, 'sign_out', 303, name ? `${name} signed out.` : 'Signed out without a valid session (it had expired or was never there).', name);
  return redirect(c, '/');
});

// ---- actions: a confirmation page (GET), then the action (POST) ---------------------------------

/** An operator's visit to a confirmation page; a reader who is not signed in is sent to sign in first. */
async function operatorVisit(c: UiContext, target: TargetConfig): Promise<Visit | Response> {
  const v = await visit(c);
  if (!v.session) return signInFirst(c);
  requireRole(c, 'operator', target);
  return v;
}

function confirm(c: UiContext, v: Visit, confirmation: Confirmation) {
  return page(c, v.nonce, <ConfirmPage confirmation={confirmation} csrf={v.viewer.csrf ?? ''} viewer={v.viewer} nonce={v.nonce} />);
}

function refusal(c: UiContext, v: Visit, status: ContentfulStatusCode, code: string, title: string, message: string, back: string) {
  return page(c, v.nonce, <MessagePage title={title} message={message} code={code} back={back} viewer={v.viewer} nonce={v.nonce} />, status);
}

/** A commit's message and author as the edge knows them: from a deployment of it, or the branch head. */
async function knownCommit(target: TargetConfig, hub: ReturnType<typeof hubFor>, sha: string): Promise<{ message: string; author: string | null } | null> {
  const status = await hub.status(target.name);
  if (status.branchHead?.sha === sha) return { message: status.branchHead.message, author: status.branchHead.author };
  const seen = (await hub.history(target.name, { limit: 200 })).find((d) => d.sha === sha && d.kind === 'deploy');
  return seen ? { message: seen.message, author: seen.author } : null;
}

ui.get('/targets/:name/deploy', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const base = `/targets/${target.name}`;
  const hub = hubFor(c.env, target.name);
  const asked = (c.req.query('sha') ?? '').trim().toLowerCase();
  const status = await hub.status(target.name);
  let sha: string;
  if (!asked) {
    if (!status.branchHead) return refusal(c, v, 409, 'no_commit', 'Nothing to deploy', `No push to ${target.branch} has been seen yet: give the commit's full sha.`, base);
    sha = status.branchHead.sha;
  } else if (!/^[0-9a-f]{40}$/.test(asked)) {
    return refusal(c, v, 400, 'invalid_request', 'Not a commit', 'Give the full 40-character commit sha (lowercase hex), as `git rev-parse HEAD` prints it.', base);
  } else {
    sha = asked;
  }
  const commit = await knownCommit(target, hub, sha);
  const message = commit ? firstLine(commit.message) : '';
  const what = `${shortSha(sha)}${message ? ` '${message}'` : ''}`;
  const queuedDeploys = status.queued.filter((q) => q.kind === 'deploy');
  return confirm(c, v, {
    title: `Deploy to ${target.name}`,
    question: asked ? `Deploy ${what} to ${target.name}?` : `Deploy the head of ${target.branch}, ${what}, to ${target.name}?`,
    details: (
      <ul class="small">
        <li>
          Commit <code>{sha}</code>
          {commit?.author ? ` by ${commit.author}` : ''}
          {commit ? '' : ' (the edge has not seen this commit; the relay refuses it if it is not on the branch)'}.
        </li>
        <li>The relay backs up what the deploy changes, deploys, has Home Assistant check the configuration, reloads or restarts, verifies, and rolls back by itself if anything fails.</li>
        {status.current ? <li>{describeDeployment(status.current)} is running now; this one waits for it.</li> : null}
        {queuedDeploys.length ? <li>It supersedes the queued {queuedDeploys.map((q) => q.id).join(', ')}.</li> : null}
      </ul>
    ),
    action: `${base}/deploy`,
    fields: { sha },
    button: `Deploy ${shortSha(sha)}`,
    back: base,
  });
});

ui.post('/targets/:name/deploy', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const sha = (form.get('sha') ?? '').trim().toLowerCase();
  const body = validate(DeployRequest, sha ? { sha } : {}, 'form');
  const outcome = unwrap(
    await hubFor(c.env, target.name).enqueueDeploy(manualDeploy(target.name, body.sha ?? null, who.name, requestSource(c.req.raw))),
  );
  return redirect(c, `/targets/${target.name}?deployment=${encodeURIComponent(outcome.deploymentId)}`);
});

/** Titles of the page that refuses a restore, by the hub's code. */
const RESTORE_REFUSED: Record<string, string> = {
  unknown_backup: 'No such backup',
  backup_not_kept: 'Backup no longer kept',
};

/** The deployment a rollback with neither id goes back to, as the hub decides it: the last success before the one deployed. */
function previousSuccess(history: DeploymentView[]): DeploymentView | null {
  const successes = history.filter((d) => d.status === 'succeeded');
  return successes[1] ?? null;
}

ui.get('/targets/:name/rollback', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const base = `/targets/${target.name}`;
  const hub = hubFor(c.env, target.name);
  const deploymentId = c.req.query('deploymentId') || null;
  const backupId = c.req.query('backupId') || null;
  if (backupId) {
    // The hub decides as it will for the POST: a backup the relay no longer keeps gets no button.
    const plan = await hub.backupRestore(target.name, backupId);
    if (!plan.ok) return refusal(c, v, plan.status, plan.code, RESTORE_REFUSED[plan.code] ?? 'Cannot restore that backup', plan.message, base);
    const { maker, kept } = plan.value;
    return confirm(c, v, {
      title: `Restore a backup on ${target.name}`,
      question: `Restore backup ${backupId} on ${target.name}?`,
      details: (
        <ul class="small">
          {maker ? <li>It was taken before {describeDeployment(maker)} ran.</li> : kept?.deploymentId ? <li>It was taken before {kept.deploymentId} ran.</li> : null}
          {kept ? (
            <li>
              The relay keeps it: {kept.files} file{kept.files === 1 ? '' : 's'}, {byteSize(kept.bytes)}, taken <Time at={kept.createdAt} />.
            </li>
          ) : null}
          <li>The relay puts back exactly those bytes (UI edits the backup caught come back too), then reloads or restarts and verifies.</li>
        </ul>
      ),
      action: `${base}/rollback`,
      fields: { backupId },
      button: 'Restore this backup',
      danger: true,
      back: base,
    });
  }
  let goal: DeploymentView | null;
  if (deploymentId) {
    goal = unwrap(await deploymentDetail(c.env, target.name, deploymentId)).deployment;
  } else {
    goal = previousSuccess(await hub.history(target.name, { limit: 200, status: 'succeeded' }));
    if (!goal) return refusal(c, v, 409, 'nothing_to_roll_back_to', 'Nothing to roll back to', 'There is no earlier successful deployment to roll back to.', base);
  }
  if (goal.status !== 'succeeded') {
    return refusal(c, v, 409, 'not_rollbackable', 'Cannot roll back to that', `Deployment ${goal.id} ended ${goal.status}; only a deployment that succeeded can be rolled back to.`, base);
  }
  const deployed = (await hub.status(target.name)).deployed;
  return confirm(c, v, {
    title: `Roll back ${target.name}`,
    question: `Roll back ${target.name} to ${describeDeployment(goal)}?`,
    details: (
      <ul class="small">
        {deployed ? <li>Deployed now: {describeDeployment(deployed)}.</li> : null}
        <li>
          The relay deploys commit <code>{goal.sha}</code> again through the whole pipeline, as a rollback.
        </li>
      </ul>
    ),
    action: `${base}/rollback`,
    fields: { deploymentId: goal.id },
    button: `Roll back to ${shortSha(goal.sha)}`,
    danger: true,
    back: base,
  });
});

ui.post('/targets/:name/rollback', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const deploymentId = form.get('deploymentId') || null;
  const backupId = form.get('backupId') || null;
  if (deploymentId && backupId) throw new ApiError(400, 'invalid_request', 'Give a deployment or a backup to roll back to, not both.');
  const { deploymentId: id } = unwrap(
    await hubFor(c.env, target.name).enqueueRollback({ target: target.name, deploymentId, backupId, actor: who.name, source: requestSource(c.req.raw) }),
  );
  return redirect(c, `/targets/${target.name}?deployment=${encodeURIComponent(id)}`);
});

ui.get('/targets/:name/cancel', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const base = `/targets/${target.name}`;
  const id = c.req.query('deploymentId') ?? '';
  if (!id) return refusal(c, v, 400, 'invalid_request', 'Which deployment?', 'Name the queued deployment to cancel.', base);
  const { deployment } = unwrap(await deploymentDetail(c.env, target.name, id));
  if (deployment.status !== 'queued') {
    return refusal(c, v, 409, 'not_cancellable', 'Cannot cancel', `Deployment ${deployment.id} is ${deployment.status}; only a queued deployment can be cancelled.`, base);
  }
  return confirm(c, v, {
    title: `Cancel a queued ${deployment.kind}`,
    question: `Cancel ${deployment.kind === 'rollback' ? 'the rollback' : 'the deploy'} ${describeDeployment(deployment)} on ${target.name}?`,
    details: <p class="small">It has not started: nothing on the house changes.</p>,
    action: `${base}/cancel`,
    fields: { deploymentId: deployment.id },
    button: 'Cancel it',
    danger: true,
    back: base,
  });
});

ui.post('/targets/:name/cancel', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const id = form.get('deploymentId') ?? '';
  if (!id) throw new ApiError(400, 'invalid_request', 'Name the queued deployment to cancel.');
  const deployment = unwrap(await hubFor(c.env, target.name).cancel(target.name, id, who.name, requestSource(c.req.raw)));
  return redirect(c, `/targets/${target.name}?deployment=${encodeURIComponent(deployment.id)}`);
});

// ---- errors ---------------------------------------------------------------------------------------

ui.onError(async (error, c) => {
  // Before `visit` below: who was known when the request was refused, not who the cookie names now.
  logRefusal(c, error, 'page');
  const status: ContentfulStatusCode = error instanceof ApiError ? error.status : 500;
  const code = error instanceof ApiError ? error.code : 'internal';
  const message = error instanceof ApiError ? error.message : 'Something went wrong at the edge; the error has been logged.';
  if (!(error instanceof ApiError)) console.error('status page error', error);
  let viewer: Viewer = { principal: null, csrf: null, canSignIn: false };
  try {
    viewer = (await visit(c)).viewer;
  } catch {
    // The session key itself is misconfigured: show the error without a session.
  }
  const nonce = newNonce();
  const title = status === 404 ? 'Not found' : status === 403 ? 'Refused' : status === 401 ? 'Sign in first' : status >= 500 ? 'Edge error' : 'Cannot do that';
  let back = '/';
  try {
    back = `/targets/${findTarget(c.env.TARGETS, c.req.param('name') ?? '').name}`;
  } catch {
    // No target in the path, or not one that exists.
  }
  return page(c, nonce, <MessagePage title={title} message={message} code={code} back={back} viewer={viewer} nonce={nonce} />, status);
});
