// A freeze: an operator stops a target's deploys for a while (a holiday, a party), with a reason and
// an optional end. Deliveries are still verified, recorded and queued (the latest wins); nothing is
// dispatched until it ends, except a rollback an admin forces (break glass). The edge keeps it
// (worker/hub/freeze.ts) and tells the relay, whose Home Assistant sensor shows it.
import { z } from 'zod';
import { oneLine } from './wire-text.ts';

/** The longest reason a freeze may give. */
export const MAX_FREEZE_REASON_CHARS = 500;
/** The furthest ahead a freeze may end: a year. Longer is "until unfrozen" (`until` left out). */
export const MAX_FREEZE_MS = 366 * 24 * 60 * 60_000;

/** A freeze in force, as the edge records it and the page, the API and the relay show it. */
export const Freeze = z.object({
  /** Who froze it (the token's or the signed-in user's name). */
  by: oneLine(256),
  reason: oneLine(MAX_FREEZE_REASON_CHARS),
  /** When it was frozen (ms since the epoch, the edge's clock). */
  at: z.number().int().nonnegative(),
  /** When it ends by itself (ms since the epoch); null: until an operator unfreezes it. */
  until: z.number().int().nonnegative().nullable(),
});
export type Freeze = z.infer<typeof Freeze>;

/** `POST /api/deployments/:target/freeze`. `until` is an ISO 8601 time with its offset, e.g. `2026-12-27T09:00:00+01:00`. */
export const FreezeRequest = z
  .object({
    reason: oneLine(MAX_FREEZE_REASON_CHARS).refine((r) => r.trim().length > 0, 'say why: the page shows it to everyone'),
    until: z.iso
      .datetime({ offset: true, error: 'an ISO 8601 time with its offset, e.g. 2026-12-27T09:00:00+01:00 or 2026-12-27T08:00:00Z' })
      .optional(),
  })
  .strict();
export type FreezeRequest = z.infer<typeof FreezeRequest>;

/**
 * hub → relay: the target's state that the house shows but the relay does not decide. Sent after
 * `welcome` and whenever it changes; a relay that does not know it ignores it.
 */
export const TargetStateMessage = z.object({
  type: z.literal('target_state'),
  freeze: Freeze.nullable(),
});
export type TargetStateMessage = z.infer<typeof TargetStateMessage>;
