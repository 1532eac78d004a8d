// POST /webhooks/github: verify, route, enqueue, answer in milliseconds, and write the ledger
// entry after the answer.
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { loadTargets } from '../config/targets.ts';
import type { Env } from '../env.ts';
import { readLimitedBody } from '../http/body-limit.ts';
import { errorBody } from '../http/errors.ts';
import { clipText } from '../http/quote-input.ts';
import { requestSource } from '../http/request-source.ts';
import { hubFor } from '../hub/hub-for.ts';
import { TAG_IGNORED } from '../hub/release-tags.ts';
import { firstDeliveryOfBody, recordDelivery, type DeliveryRecord, type DeliveryVerdict, type FirstDelivery } from '../ledger/deliveries.ts';
import { headersLookLikeGithub, looksLikeGithub } from './github-shape.ts';
import { bodyDigest, replayReason } from './replay.ts';
import { routeDelivery } from './route-delivery.ts';
import { takePullRequestDelivery } from './route-pull-request.ts';
import { checkSignature } from './signature.ts';

/** GitHub caps webhook payloads at 25 MB. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export const webhooks = new Hono<{ Bindings: Env }>();

webhooks.post('/github', async (c) => {
  const received = Date.now();
  const request = c.req.raw;
  const record: DeliveryRecord = {
    deliveryId: c.req.header('X-GitHub-Delivery') ?? null,
    receivedAt: received,
    event: c.req.header('X-GitHub-Event') ?? null,
    action: null,
    repo: null,
    ref: null,
    sha: null,
    verified: false,
    verdict: 'rejected',
    reason: '',
    status: 0,
    deployments: [],
    source: requestSource(request),
    bodySha256: null,
  };
  const answer = (status: ContentfulStatusCode, verdict: DeliveryVerdict, reason: string, extra: Record<string, unknown> = {}) => {
    // A reason can quote the payload or a header (a ref, the event's name): cut, so the answer stays small.
    reason = clipText(reason, 2048);
    record.status = status;
    record.verdict = verdict;
    record.reason = reason;
    c.executionCtx.waitUntil(recordDelivery(c.env.LEDGER, record).catch((error) => console.error('ledger write failed', error)));
    if (status >= 400) return c.json(errorBody(verdict === 'rejected' && status === 401 ? 'bad_signature' : verdict, reason), status);
    return c.json({ status: verdict, reason, deliveryId: record.deliveryId, ...extra }, status);
  };

  // The ledger keeps the event and delivery id of an unsigned request only when it looks like
  // GitHub's (github-shape.ts): a scanner's headers are text it chose, and the overview shows them.
  const body = await readLimitedBody(request, MAX_WEBHOOK_BYTES);
  if (!body.ok) {
    if (!headersLookLikeGithub(request.headers)) Object.assign(record, { event: null, deliveryId: null });
    return answer(413, 'rejected', `payload is larger than ${MAX_WEBHOOK_BYTES} bytes`);
  }

  const signature = await checkSignature(body.bytes, c.req.header('X-Hub-Signature-256') ?? null, c.env.WEBHOOK_SECRET, c.env.WEBHOOK_SECRET_PREVIOUS);
  if (!signature.ok) {
    if (!looksLikeGithub(request.headers, body.bytes)) Object.assign(record, { event: null, deliveryId: null });
    return answer(401, 'rejected', signature.reason);
  }
  record.verified = true;
  const text = new TextDecoder().decode(body.bytes);

  const contentType = c.req.header('Content-Type') ?? '';
  if (!/^application\/json\b/i.test(contentType)) {
    return answer(400, 'invalid', `content type must be application/json (got "${contentType || 'none'}"); set the webhook's content type to application/json`);
  }
  if (!record.event) return answer(400, 'invalid', 'missing X-GitHub-Event header');
  if (!record.deliveryId) return answer(400, 'invalid', 'missing X-GitHub-Delivery header');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return answer(400, 'invalid', 'body is not valid JSON');
  }

  if (record.event === 'ping') {
    // A signed ping names the repository whose hook it is: the target's first-run checklist reads "webhook seen" from it.
    const pingRepo = (payload as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
    if (typeof pingRepo === 'string') record.repo = pingRepo;
    const zen = typeof payload === 'object' && payload && 'zen' in payload ? String((payload as { zen: unknown }).zen) : null;
    return answer(200, 'ok', 'pong: the webhook reaches Lanyard and its signature is valid', { zen });
  }

  if (record.event === 'pull_request') {
    // Plans, not deploys (issue 20): route-pull-request.ts.
    const pull = await takePullRequestDelivery(c.env, payload);
    Object.assign(record, pull.record);
    return answer(pull.status, pull.verdict, pull.reason, { plans: pull.plans });
  }

  const route = routeDelivery(record.event, payload, loadTargets(c.env.TARGETS));
  Object.assign(record, { repo: route.repo, ref: route.ref, sha: route.sha, action: route.action });
  if (route.invalid) return answer(400, 'invalid', route.invalid);

  // A body GitHub already delivered under another id is a replay (replay.ts): answered before any hub.
  record.bodySha256 = await bodyDigest(body.bytes);
  const reachesHubs = route.deploy.length + route.branchHeads.length + route.verdicts.length > 0;
  let first: FirstDelivery | null;
  try {
    first = reachesHubs ? await firstDeliveryOfBody(c.env.LEDGER, record.bodySha256, record.deliveryId) : null;
  } catch (error) {
    console.error('delivery ledger read failed', error);
    return answer(503, 'refused', 'the delivery ledger could not be read to tell a replay from a new delivery, so nothing was queued: redeliver it from GitHub once D1 answers (an edge upgraded without `npx wrangler d1 migrations apply LEDGER --remote` lacks the body_sha256 column)');
  }
  if (first) {
    record.deployments = first.deployments.map((d) => ({ ...d, created: false }));
    return answer(200, 'duplicate', replayReason(first), { deployments: first.deployments.map((d) => ({ target: d.target, deploymentId: d.deploymentId })) });
  }

  const source = record.source;
  const deliveryId = record.deliveryId;
  // A target that deploys this push learns its branch head with the deployment, in one round trip
  // to its hub; only targets waiting for CI or a dispatch are told about the head alone.
  const headOf = new Map(route.branchHeads.map((h) => [h.target, h]));
  const deploying = new Set(route.deploy.map((d) => d.target));
  await Promise.all([
    ...route.branchHeads
      .filter((h) => !deploying.has(h.target))
      .map((h) =>
        hubFor(c.env, h.target).noteBranchHead({
          target: h.target,
          sha: h.sha,
          message: h.message,
          author: h.author,
          at: received,
          deliveryId,
          ...(h.pushedOver ? { pushedOver: h.pushedOver } : {}),
        }),
      ),
    ...route.verdicts.map((v) =>
      hubFor(c.env, v.target).noteWorkflowVerdict({ target: v.target, sha: v.sha, workflow: v.workflow, conclusion: v.conclusion, url: v.url, at: received }),
    ),
  ]);
  const outcomes = await Promise.all(
    route.deploy.map(async (intent) => {
      const head = headOf.get(intent.target);
      const branchHead = head && head.sha === intent.sha ? { message: head.message, author: head.author, at: received } : undefined;
      const outcome = await hubFor(c.env, intent.target).enqueueDeploy({ ...intent, deliveryId, source, receivedAt: received, ...(branchHead ? { branchHead } : {}) });
      if (outcome.ok) {
        const { deploymentId, created, notDeployed } = outcome.value;
        return { queued: true as const, target: intent.target, deploymentId, created, notDeployed };
      }
      // A pushed tag the hub chose not to deploy (lower than the one in force, not semver) is ignored, not refused.
      return { queued: false as const, target: intent.target, reason: `${intent.target}: ${outcome.message}`, ignoredByHub: outcome.code === TAG_IGNORED };
    }),
  );
  const queuedOutcomes = outcomes.flatMap((o) => (o.queued ? [{ target: o.target, deploymentId: o.deploymentId, created: o.created }] : []));
  for (const o of outcomes) if (!o.queued) route.ignored.push({ target: o.target, reason: o.reason });
  record.deployments = queuedOutcomes;
  for (const i of route.ignored) i.reason = clipText(i.reason, 512);
  const ignoredText = route.ignored.map((i) => i.reason).join('; ');
  // A hub that would not act on it (a commit the branch moved on from) makes it refused, not ignored.
  const verdict = outcomes.some((o) => !o.queued && !o.ignoredByHub) ? 'refused' : 'ignored';
  if (!queuedOutcomes.length) return answer(202, verdict, ignoredText || 'nothing to deploy', { ignored: route.ignored });
  const deployments = queuedOutcomes.map((o) => ({ target: o.target, deploymentId: o.deploymentId }));
  if (queuedOutcomes.every((o) => !o.created)) {
    return answer(200, 'duplicate', 'this delivery was received before; nothing was queued again', { deployments });
  }
  // A push delivered after a later one is recorded (it was received: 202), but not deployed.
  const queued = outcomes
    .flatMap((o) => (o.queued ? [`${o.target}: ${o.deploymentId}${o.notDeployed ? ` (not deployed: ${o.notDeployed})` : ''}`] : []))
    .join(', ');
  return answer(202, 'enqueued', `queued ${queued}${ignoredText ? `; ${ignoredText}` : ''}`, { deployments, ignored: route.ignored });
});
