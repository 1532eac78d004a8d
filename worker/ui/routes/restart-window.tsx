/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// "Restart now" on the status page (issue 18): a confirmation page that says what will happen to the
// house (GET), then the action (POST), through `checkedPost` and `requireRole` like every action.
import { Hono } from 'hono';
import { DeploymentId } from '../../../shared/api.ts';
import { findTarget } from '../../config/targets.ts';
import { requireRole, type AppContext } from '../../http/access.ts';
import { requestSource } from '../../http/request-source.ts';
import { validate } from '../../http/validate.ts';
import { hubFor } from '../../hub/hub-for.ts';
import { unwrap } from '../../hub/hub-result.ts';
import { describeDeployment } from '../format.ts';
import { checkedPost, page, redirect } from '../page-context.tsx';
import { confirmPage, operatorVisit } from './confirm-page.tsx';
import { deploymentDetail } from '../target-data.ts';
import { MessagePage } from '../views/forms.tsx';

export const restartWindowActions = new Hono<AppContext>();

restartWindowActions.get('/targets/:name/restart-now', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const v = await operatorVisit(c, target);
  if (v instanceof Response) return v;
  const base = `/targets/${target.name}`;
  const id = validate(DeploymentId, c.req.query('deploymentId') ?? '', 'deploymentId');
  const { deployment } = unwrap(await deploymentDetail(c.env, target.name, id));
  if (deployment.status !== 'waiting_for_window') {
    const message = `Deployment ${deployment.id} is ${deployment.status}; only a deployment waiting for the restart window can be restarted now.`;
    return page(c, v.nonce, <MessagePage title="Nothing waits" message={message} code="not_waiting_for_window" back={base} viewer={v.viewer} nonce={v.nonce} />, 409);
  }
  return confirmPage(c, v, {
    title: `Restart ${target.name} now`,
    question: `Deploy ${describeDeployment(deployment)} to ${target.name} now, restarting Home Assistant outside its restart window?`,
    details: (
      <ul class="small">
        <li>{deployment.reason}</li>
        <li>Home Assistant restarts as soon as the relay runs it; its automations stop for the minute or so it takes.</li>
      </ul>
    ),
    action: `${base}/restart-now`,
    fields: { deploymentId: deployment.id },
    button: 'Restart now',
    danger: true,
    back: base,
  });
});

restartWindowActions.post('/targets/:name/restart-now', async (c) => {
  const target = findTarget(c.env.TARGETS, c.req.param('name'));
  const { form } = await checkedPost(c);
  const who = requireRole(c, 'operator', target);
  const id = validate(DeploymentId, form.get('deploymentId') ?? '', 'deploymentId');
  const deployment = unwrap(await hubFor(c.env, target.name).restartNow(target.name, id, who.name, requestSource(c.req.raw)));
  return redirect(c, `/targets/${target.name}?deployment=${encodeURIComponent(deployment.id)}`);
});
