/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The operator's actions on a target (deploy, roll back or restore a backup, try a failed deploy
// again, cancel a queued deployment): each is a confirmation page (GET) that names exactly what will happen, then the
// action (POST), which passes `checkedPost` and `requireRole` before it reaches the hub.
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DeploymentView, TargetStatus } from '../../../shared/api.ts';
import { DeployRequest, RetryDriftChoice } from '../../../shared/api.ts';
import { findTarget, type TargetConfig } from '../../config/targets.ts';
import { requireRole, type AppContext } from '../../http/access.ts';
import { roleAllows } from '../../http/auth.ts';
import { ApiError } from '../../http/errors.ts';
import { requestSource } from '../../http/request-source.ts';
import { validate } from '../../http/validate.ts';
import { describeFreeze, frozenRollbackRefusal } from '../../hub/freeze.ts';
import { hubFor } from '../../hub/hub-for.ts';
import { unwrap } from '../../hub/hub-result.ts';
import { manualDeploy } from '../../hub/requests.ts';
import { byteSize, describeDeployment, firstLine, shortSha } from '../format.ts';
import { checkedPost, page, redirect, type UiContext, type Visit } from '../page-context.tsx';
import { deploymentDetail } from '../target-data.ts';
import { driftChoiceWords } from '../views/drift.tsx';
import { MessagePage } from '../views/forms.tsx';
import { confirmPage, operatorVisit } from './confirm-page.tsx';
import { Time } from '../views/parts.tsx';

export const actions = new Hono<AppContext>();

function refusal(c: UiContext, v: Visit, status: ContentfulStatusCode, code: string, title: string, message: string, back: string) {
  return page(c, v.nonce, <MessagePage title={title} message={message} code={code} back={back} viewer={v.viewer} nonce={v.nonce} />, status);
}

/** A commit's message and author as the edge knows them: the branch head the caller already has, or a deployment of it. */
async function knownCommit(target: TargetConfig, hub: ReturnType<typeof hubFor>, head: TargetStatus['branchHead'], sha: string): Promise<{ message: string; author: string | null } | null> {
  if (head?.sha === sha) return { message: head.message, author: head.author };
  const seen = (await hub.history(target.name, { limit: 200 })).find((d) => d.sha === sha && d.kind === 'deploy');
  return seen ? { message: seen.message, author: seen.author } : null;
}

actions.get('/targets/:name/deploy', async (c) => {
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
  } else {
    // The start of a sha is enough when the target knows the commit; the form then posts it whole.
    const resolved = await hub.resolveCommit(target.name, asked);
    if (!resolved.ok) return refusal(c, v, resolved.status, resolved.code, 'Which commit?', resolved.message, base);
    sha = resolved.value.sha;
  }
  const commit = await knownCommit(target, hub, status.branchHead, sha);
  const message = commit ? firstLine(commit.message) : '';
  const what = `${shortSha(sha)}${message ? ` '${message}'` : ''}`;
  const queuedDeploys = status.queued.filter((q) => q.kind === 'deploy');
  return confirmPage(c, v, {
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

actions.post('/targets/:name/deploy', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const sha = (form.get('sha') ?? '').trim().toLowerCase();
  const body = validate(DeployRequest, sha ? { sha } : {}, 'form');
  const hub = hubFor(c.env, target.name);
  const full = body.sha ? unwrap(await hub.resolveCommit(target.name, body.sha)).sha : null;
  const outcome = unwrap(await hub.enqueueDeploy(manualDeploy(target.name, full, who.name, requestSource(c.req.raw))));
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

actions.get('/targets/:name/rollback', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const base = `/targets/${target.name}`;
  const hub = hubFor(c.env, target.name);
  const deploymentId = c.req.query('deploymentId') || null;
  const backupId = c.req.query('backupId') || null;
  // While frozen only an admin's rollback goes (break glass): anyone else hears so before confirming, an admin is told what it breaks.
  const freeze = (await hub.status(target.name)).freeze ?? null;
  if (freeze && !roleAllows(v.viewer.principal?.role ?? 'viewer', 'admin')) return refusal(c, v, 409, 'frozen', `${target.name} is frozen`, frozenRollbackRefusal(target.name, freeze), base);
  const breakGlass = freeze ? <li data-break-glass>Break glass: {target.name} is {describeFreeze(freeze)}. This rollback goes through the freeze at once and is recorded in the audit trail; nothing else queued goes with it.</li> : null;
  if (backupId) {
    // The hub decides as it will for the POST: a backup the relay no longer keeps gets no button.
    const plan = await hub.backupRestore(target.name, backupId);
    if (!plan.ok) return refusal(c, v, plan.status, plan.code, RESTORE_REFUSED[plan.code] ?? 'Cannot restore that backup', plan.message, base);
    const { maker, kept } = plan.value;
    return confirmPage(c, v, {
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
          {breakGlass}
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
  return confirmPage(c, v, {
    title: `Roll back ${target.name}`,
    question: `Roll back ${target.name} to ${describeDeployment(goal)}?`,
    details: (
      <ul class="small">
        {deployed ? <li>Deployed now: {describeDeployment(deployed)}.</li> : null}
        <li>
          The relay deploys commit <code>{goal.sha}</code> again through the whole pipeline, as a rollback.
        </li>
        {breakGlass}
      </ul>
    ),
    action: `${base}/rollback`,
    fields: { deploymentId: goal.id },
    button: `Roll back to ${shortSha(goal.sha)}`,
    danger: true,
    back: base,
  });
});

actions.post('/targets/:name/rollback', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const deploymentId = form.get('deploymentId') || null;
  const backupId = form.get('backupId') || null;
  if (deploymentId && backupId) throw new ApiError(400, 'invalid_request', 'Give a deployment or a backup to roll back to, not both.');
  const { deploymentId: id } = unwrap(
    await hubFor(c.env, target.name).enqueueRollback({ target: target.name, deploymentId, backupId, actor: who.name, source: requestSource(c.req.raw), breakGlass: who.role === 'admin' }),
  );
  return redirect(c, `/targets/${target.name}?deployment=${encodeURIComponent(id)}`);
});

/** A way on from drift as a link or a form names it (`drift=overwrite|keep`); none when empty; anything else is refused. */
function driftChoiceOf(value: string | null | undefined): RetryDriftChoice | undefined {
  if (!value) return undefined;
  return validate(RetryDriftChoice, value, 'drift');
}

actions.get('/targets/:name/retry', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const base = `/targets/${target.name}`;
  const id = c.req.query('deploymentId') ?? '';
  if (!id) return refusal(c, v, 400, 'invalid_request', 'Which deployment?', 'Name the failed deployment to try again.', base);
  const drift = driftChoiceOf(c.req.query('drift'));
  // The hub decides as it will for the POST: only the newest deploy, and only one that failed or was rolled back.
  const plan = await hubFor(c.env, target.name).retryPlan(target.name, id, drift);
  if (!plan.ok) return refusal(c, v, plan.status, plan.code, 'Cannot try that again', plan.message, base);
  const d = plan.value;
  if (drift) {
    const words = driftChoiceWords(drift, d.sha);
    return confirmPage(c, v, {
      title: `Deploy to ${target.name} past drift`,
      question: `Deploy ${describeDeployment(d)} to ${target.name} again, ${words.question}?`,
      details: (
        <ul class="small" data-drift-choice={drift}>
          <li>It stopped on drift: {d.reason ?? 'files changed on the host since the last deploy'}</li>
          {words.details.map((line) => (
            <li>{line}</li>
          ))}
        </ul>
      ),
      action: `${base}/retry`,
      fields: { deploymentId: d.id, drift },
      button: words.button,
      danger: drift === 'overwrite',
      back: `${base}?deployment=${encodeURIComponent(d.id)}`,
    });
  }
  return confirmPage(c, v, {
    title: `Try a deploy to ${target.name} again`,
    question: `Deploy ${describeDeployment(d)} to ${target.name} again?`,
    details: (
      <ul class="small">
        <li>It ended {d.status}: {d.reason ?? 'no reason given'}</li>
        <li>The same commit goes through the whole pipeline again as a new deployment; if what stopped it has not changed, it stops the same way, with nothing written.</li>
      </ul>
    ),
    action: `${base}/retry`,
    fields: { deploymentId: d.id },
    button: `Deploy ${shortSha(d.sha)} again`,
    back: `${base}?deployment=${encodeURIComponent(d.id)}`,
  });
});

actions.post('/targets/:name/retry', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const id = form.get('deploymentId') ?? '';
  if (!id) throw new ApiError(400, 'invalid_request', 'Name the failed deployment to try again.');
  const drift = driftChoiceOf(form.get('drift'));
  const { deploymentId } = unwrap(await hubFor(c.env, target.name).retry(target.name, id, who.name, requestSource(c.req.raw), drift));
  return redirect(c, `/targets/${target.name}?deployment=${encodeURIComponent(deploymentId)}`);
});

actions.get('/targets/:name/cancel', async (c) => {
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
  return confirmPage(c, v, {
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

actions.post('/targets/:name/cancel', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const id = form.get('deploymentId') ?? '';
  if (!id) throw new ApiError(400, 'invalid_request', 'Name the queued deployment to cancel.');
  const deployment = unwrap(await hubFor(c.env, target.name).cancel(target.name, id, who.name, requestSource(c.req.raw)));
  return redirect(c, `/targets/${target.name}?deployment=${encodeURIComponent(deployment.id)}`);
});
