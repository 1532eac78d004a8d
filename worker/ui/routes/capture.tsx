/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// "Capture these edits" on the status page: a confirmation page that says what a capture does
// (GET), then the capture (POST), through `checkedPost` and `requireRole` like every action.
import { Hono } from 'hono';
import { DeploymentId } from '../../../shared/api.ts';
import { CAPTURE_BRANCH_PREFIX } from '../../../shared/drift.ts';
import { findTarget } from '../../config/targets.ts';
import { requireRole, type AppContext } from '../../http/access.ts';
import { requestSource } from '../../http/request-source.ts';
import { hubFor } from '../../hub/hub-for.ts';
import { unwrap } from '../../hub/hub-result.ts';
import { checkedPost, redirect } from '../page-context.tsx';
import { confirmPage, operatorVisit } from './confirm-page.tsx';
import { validate } from '../../http/validate.ts';

export const captureActions = new Hono<AppContext>();

captureActions.get('/targets/:name/capture', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const base = `/targets/${target.name}`;
  // From a deploy stopped on drift (the drift panel's first way on): capture, then that deploy again keeping the host's files.
  const retryOf = c.req.query('deploymentId') ? validate(DeploymentId, c.req.query('deploymentId'), 'deploymentId') : null;
  return confirmPage(c, v, {
    title: `Capture the host's edits on ${target.name}`,
    question: `Make the edits made on ${target.name} since the last deploy a pull request to ${target.repo}?`,
    details: (
      <ul class="small">
        <li>
          The relay commits the files that differ from the last deploy onto the deployed commit and pushes them to{' '}
          <code>{`${CAPTURE_BRANCH_PREFIX}${target.name}/<today>`}</code>; nothing on the house changes.
        </li>
        <li>Protected files (secrets.yaml, .storage/, databases, your protect globs) are never read or pushed.</li>
        <li>It runs when the relay is connected and no deploy runs; a pull request to {target.branch} follows.</li>
        {retryOf ? (
          <li>
            Then deployment <code>{retryOf}</code> runs again, keeping the host's versions of the captured files until the pull request is merged.
          </li>
        ) : null}
      </ul>
    ),
    action: `${base}/capture`,
    fields: retryOf ? { deploymentId: retryOf } : {},
    button: retryOf ? 'Capture these edits, then deploy' : 'Capture these edits',
    back: base,
  });
});

captureActions.post('/targets/:name/capture', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const retryOf = form.get('deploymentId');
  const hub = hubFor(c.env, target.name);
  if (retryOf) unwrap(await hub.captureThenRetry(target.name, validate(DeploymentId, retryOf, 'deploymentId'), who.name, requestSource(c.req.raw)));
  else unwrap(await hub.requestCapture(target.name, who.name, requestSource(c.req.raw)));
  return redirect(c, `/targets/${target.name}#captures`);
});
