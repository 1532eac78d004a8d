// A pull request as GitHub has it, for end-to-end tests of plans (issue 20): the head commit pushed
// to a branch of the bare config repository, `refs/pull/<n>/head` set there as GitHub keeps it, and
// the signed `pull_request` delivery GitHub would send for it (pull-request-payload.ts).

export type { PullRequestDelivery } from './pull-request-payload.ts';
import { TEST_SECRETS } from './house.ts';
import { pullRequestPayload, type PullRequestDelivery } from './pull-request-payload.ts';
import { webhookRequestInit } from './webhook-delivery.ts';

/** Sends the signed delivery; answers GitHub's view of it (status and body). */
export async function sendPullRequest(edgeUrl: string, p: PullRequestDelivery, secret: string = TEST_SECRETS.webhookSecret): Promise<{ status: number; body: Record<string, unknown> }> {
  const init = await webhookRequestInit({ event: 'pull_request', payload: pullRequestPayload(p), secret });
  const response = await fetch(`${edgeUrl}/webhooks/github`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
