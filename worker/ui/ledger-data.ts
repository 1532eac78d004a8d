// What the pages show from the delivery ledger in D1: a target's recent deliveries, and on the
// overview whether GitHub's webhook reaches the edge with the right secret. One query each. The
// ledger is a side note to the page: when D1 cannot be read the page still renders, and says so.
import type { TargetConfig } from '../config/targets.ts';
import type { Env } from '../env.ts';
import { listRepoDeliveries, type DeliveryRecord } from '../ledger/deliveries.ts';
import { readWebhookHealth, type WebhookHealth } from '../ledger/webhook-health.ts';

/** How many deliveries the target page lists. */
export const DELIVERIES_SHOWN = 10;

export type LedgerRead<T> = { ok: true; value: T } | { ok: false };

export interface TargetDeliveries {
  repo: string;
  /** True when only deliveries about this target are listed (a reader who is not signed in). */
  aboutTargetOnly: boolean;
  read: LedgerRead<DeliveryRecord[]>;
  /**
   * Whether GitHub's deliveries reach the edge with a valid signature (any repository: a refused
   * signature's repository is never stored), for the first-run checklist; read for a signed-in
   * reader only, and optional so a caller that has none still renders.
   */
  health?: LedgerRead<WebhookHealth>;
}

async function readLedger<T>(what: string, read: () => Promise<T>): Promise<LedgerRead<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    console.error(`status page: reading ${what} from the delivery ledger failed`, error);
    return { ok: false };
  }
}

/**
 * The newest deliveries of the target's repository. A signed-in reader sees all of them (a push
 * to another branch is the answer to "why didn't it deploy?"); a reader of a public target who is
 * not signed in sees only those about that target, never what the repository's other targets got.
 */
export async function loadTargetDeliveries(env: Env, target: TargetConfig, signedIn: boolean): Promise<TargetDeliveries> {
  const about = signedIn ? undefined : { target: target.name, branch: target.branch };
  return {
    repo: target.repo,
    aboutTargetOnly: !signedIn,
    read: await readLedger('deliveries', () => listRepoDeliveries(env.LEDGER, { repo: target.repo, limit: DELIVERIES_SHOWN, about })),
    ...(signedIn ? { health: await loadWebhookHealth(env, Date.now()) } : {}),
  };
}

export function loadWebhookHealth(env: Env, now: number): Promise<LedgerRead<WebhookHealth>> {
  return readLedger('webhook health', () => readWebhookHealth(env.LEDGER, now));
}
