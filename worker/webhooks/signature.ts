// Verifying X-Hub-Signature-256 with @octokit/webhooks-methods, with a second secret accepted
// during rotation. A malformed header is an answer (401), never an exception.
import { verifyWithFallback } from '@octokit/webhooks-methods';

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

const WELL_FORMED = /^sha256=[0-9a-f]{64}$/;

export async function checkSignature(
  body: string,
  header: string | null,
  secret: string | undefined,
  previousSecret: string | undefined,
): Promise<SignatureVerdict> {
  if (!secret) return { ok: false, reason: 'the edge has no WEBHOOK_SECRET configured, so no delivery can be trusted' };
  if (!header) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  if (!WELL_FORMED.test(header)) return { ok: false, reason: 'malformed X-Hub-Signature-256 header (expected sha256=<64 hex digits>)' };
  try {
    const valid = await verifyWithFallback(secret, body, header, previousSecret ? [previousSecret] : undefined);
    return valid ? { ok: true } : { ok: false, reason: 'signature does not match the webhook secret' };
  } catch (error) {
    return { ok: false, reason: `signature could not be checked: ${error instanceof Error ? error.message : String(error)}` };
  }
}
