// Sends a signed push for a real commit to the edge, as GitHub would.
import { pushPayload } from './github-payloads.ts';
import { TEST_REPO, TEST_SECRETS } from './house.ts';
import { webhookRequestInit } from './webhook-delivery.ts';

export async function sendPush(edgeUrl: string, sha: string, message: string): Promise<string> {
  const init = await webhookRequestInit({ event: 'push', payload: pushPayload({ repo: TEST_REPO, after: sha, message }), secret: TEST_SECRETS.webhookSecret });
  const response = await fetch(`${edgeUrl}/webhooks/github`, init);
  const body = (await response.json()) as { deployments?: { deploymentId: string }[]; reason?: string };
  if (response.status !== 202 || !body.deployments?.[0]) throw new Error(`push not queued: ${response.status} ${JSON.stringify(body)}`);
  return body.deployments[0].deploymentId;
}
