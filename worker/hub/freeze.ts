// A freeze (issue 18): an operator stops a target's deploys for a while (a holiday, a party), with
// a reason and an optional end. It is one value in the hub's meta, so it survives hibernation and
// is read in the same step as the queue. While it holds, deliveries are still verified, recorded
// and queued (the latest wins, as ever) and nothing is dispatched (dispatch.ts asks `mayDispatch`),
// except a rollback an admin forced through it (break glass, audited). Lifting it, by an operator
// or by its own end (the hub's alarm keeps `until`), lets the queue go: the newest queued
// deployment is dispatched. The relay hears of every change (`target_state`) for the house's sensor.
import type { DeploymentView } from '../../shared/api.ts';
import { Freeze, FreezeRequest, MAX_FREEZE_MS, type TargetStateMessage } from '../../shared/freeze.ts';
import { queueAlert } from '../outward/alerts.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';
import { liveRelay, sendTo } from './relay-socket.ts';
import type { EnqueueRollback } from './requests.ts';
import { takeRollback } from './rollback.ts';

const FREEZE_KEY = 'freeze';
/** The rollbacks an admin forced through the freeze in force: the only deployments dispatched while it holds. */
const BREAK_GLASS_KEY = 'freeze_break_glass';

/** `2026-12-27 08:00:00 UTC`, as the status page writes times. */
function utcTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Who asks, as the API and the status page name them. */
export interface FreezeActor {
  actor: string;
  source: string | null;
}

/** The freeze in force, or null (also when what meta holds no longer parses: a freeze never blocks by accident). */
export function currentFreeze(hub: Hub): Freeze | null {
  const raw = hub.meta.get(FREEZE_KEY);
  if (!raw) return null;
  try {
    const parsed = Freeze.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Why `until` cannot end a freeze set at `now`, or null when it can. The shape (ISO 8601 with an
 * offset) is FreezeRequest's; this is what depends on the clock.
 */
export function untilProblem(until: number, now: number): string | null {
  if (until <= now) return `${new Date(until).toISOString()} is in the past: give a time still to come, or leave until out to freeze until someone unfreezes`;
  if (until - now > MAX_FREEZE_MS) {
    return `${new Date(until).toISOString()} is more than ${Math.round(MAX_FREEZE_MS / 86_400_000)} days away: leave until out to freeze until someone unfreezes`;
  }
  return null;
}

/** FreezeRequest as a request at `now` must be: its `until` still to come, and at most MAX_FREEZE_MS away. */
export function freezeRequestAt(now: number) {
  return FreezeRequest.superRefine((request, ctx) => {
    if (request.until === undefined) return;
    const problem = untilProblem(Date.parse(request.until), now);
    if (problem) ctx.addIssue({ code: 'custom', path: ['until'], message: problem });
  });
}

/** "until 2026-12-27 08:00:00 UTC" or "until someone unfreezes it". */
export function freezeEnd(freeze: Pick<Freeze, 'until'>): string {
  return freeze.until === null ? 'until someone unfreezes it' : `until ${utcTime(freeze.until)}`;
}

/** The sentence the page, the refusals and the alerts share: "frozen until … by … because …". */
export function describeFreeze(freeze: Freeze): string {
  return `frozen ${freezeEnd(freeze)} by ${freeze.by} because ${freeze.reason}`;
}

/** Freezes the target (or replaces the freeze in force: a longer holiday, a better reason). */
export function takeFreeze(hub: Hub, request: FreezeRequest, who: FreezeActor): HubResult<{ freeze: Freeze }> {
  const now = Date.now();
  const until = request.until === undefined ? null : Date.parse(request.until);
  if (until !== null) {
    const problem = untilProblem(until, now);
    if (problem) return refused(400, 'invalid_request', `body is invalid: until: ${problem}`);
  }
  const replaced = currentFreeze(hub);
  const freeze: Freeze = Freeze.parse({ by: who.actor, reason: request.reason.trim(), at: now, until });
  hub.meta.set(FREEZE_KEY, JSON.stringify(freeze));
  if (!replaced) hub.meta.set(BREAK_GLASS_KEY, null);
  hub.audit.record({ at: now, actor: who.actor, action: 'freeze.set', detail: { reason: freeze.reason, until, replaced }, source: who.source });
  const waiting = hub.deployments.withStatus(['queued']).length;
  queueAlert(hub, {
    event: 'frozen',
    title: `${hub.meta.targetName()} frozen by ${freeze.by}`,
    message: `Deploys to ${hub.meta.targetName()} are ${describeFreeze(freeze)}. Pushes are still recorded and queued (the latest wins); ${waiting ? `${waiting} queued now` : 'nothing is queued now'}.`,
  });
  tellRelay(hub);
  hub.reschedule();
  hub.changed();
  return accepted({ freeze });
}

/** An operator lifts the freeze: the queue goes again, the newest queued deployment first to the relay. */
export function takeUnfreeze(hub: Hub, who: FreezeActor): HubResult<{ lifted: Freeze; dispatched: string | null }> {
  const freeze = currentFreeze(hub);
  if (!freeze) return refused(409, 'not_frozen', `${hub.meta.targetName()} is not frozen.`);
  const now = Date.now();
  lift(hub);
  hub.audit.record({ at: now, actor: who.actor, action: 'freeze.lifted', detail: { freeze }, source: who.source });
  queueAlert(hub, {
    event: 'unfrozen',
    title: `${hub.meta.targetName()} unfrozen by ${who.actor}`,
    message: `${who.actor} lifted the freeze ${freeze.by} set (${freeze.reason}): deploys to ${hub.meta.targetName()} go again.`,
  });
  return accepted({ lifted: freeze, dispatched: afterLift(hub) });
}

/** The alarm went off: a freeze whose end has come is lifted by itself. */
export function expireFreeze(hub: Hub, now: number): void {
  const freeze = currentFreeze(hub);
  if (!freeze || freeze.until === null || freeze.until > now) return;
  lift(hub);
  hub.audit.record({ at: now, actor: 'lanyard', action: 'freeze.expired', detail: { freeze }, source: null });
  queueAlert(hub, {
    event: 'unfrozen',
    title: `${hub.meta.targetName()} unfrozen: the freeze ended`,
    message: `The freeze ${freeze.by} set (${freeze.reason}) ended at ${utcTime(freeze.until)}: deploys to ${hub.meta.targetName()} go again.`,
  });
  afterLift(hub);
}

/** When the freeze ends by itself (alarm-schedule.ts); null when none holds or it has no end. */
export function nextFreezeDeadline(hub: Hub): number | null {
  return currentFreeze(hub)?.until ?? null;
}

/** The dispatch gate: while a freeze holds, only a rollback an admin forced through it goes to the relay. */
export function mayDispatch(hub: Hub, deployment: DeploymentView): boolean {
  if (!currentFreeze(hub)) return true;
  return breakGlassIds(hub).includes(deployment.id);
}

/**
 * A rollback asked for: as ever when no freeze holds. While one holds, an admin's goes through it
 * (break glass: dispatched at once, audited `rollback.break_glass`); anyone else's is refused with
 * what to do instead, and nothing is queued.
 */
export function takeRollbackThroughFreeze(hub: Hub, request: EnqueueRollback): HubResult<{ deploymentId: string }> {
  const freeze = currentFreeze(hub);
  if (!freeze) return takeRollback(hub, request);
  const target = hub.meta.targetName();
  if (!request.breakGlass) return refused(409, 'frozen', frozenRollbackRefusal(target, freeze));
  const taken = takeRollback(hub, request);
  if (!taken.ok) return taken;
  const id = taken.value.deploymentId;
  hub.meta.set(BREAK_GLASS_KEY, JSON.stringify([...breakGlassIds(hub), id]));
  hub.audit.record({ at: Date.now(), actor: request.actor, action: 'rollback.break_glass', detail: { deploymentId: id, freeze }, source: request.source });
  hub.pump();
  hub.changed();
  return taken;
}

/** Why a rollback by someone other than an admin is refused while `freeze` holds, and the two ways on. */
export function frozenRollbackRefusal(target: string, freeze: Freeze): string {
  return `${target} is ${describeFreeze(freeze)}: a rollback during a freeze needs an admin (an admin's rollback goes through the freeze, break glass, and is audited), or unfreeze it first (POST /api/deployments/${target}/unfreeze, or Unfreeze on its status page).`;
}

/** hub → relay: the freeze as the house's sensor shows it. */
export function targetStateMessage(hub: Hub): TargetStateMessage {
  return { type: 'target_state', freeze: currentFreeze(hub) };
}

/** Tells the relay, when one is connected; one that connects later hears it after its welcome (relay-session.ts). */
function tellRelay(hub: Hub): void {
  const relay = liveRelay(hub);
  if (relay) sendTo(relay, targetStateMessage(hub));
}

function lift(hub: Hub): void {
  hub.meta.set(FREEZE_KEY, null);
  hub.meta.set(BREAK_GLASS_KEY, null);
}

/** After a freeze is lifted: the relay hears, the queue goes; the id of what was dispatched, if anything was. */
function afterLift(hub: Hub): string | null {
  tellRelay(hub);
  const before = new Set(hub.deployments.withStatus(['dispatched', 'running']).map((d) => d.id));
  hub.pump();
  hub.changed();
  return hub.deployments.withStatus(['dispatched', 'running']).find((d) => !before.has(d.id))?.id ?? null;
}

function breakGlassIds(hub: Hub): string[] {
  try {
    const ids: unknown = JSON.parse(hub.meta.get(BREAK_GLASS_KEY) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}
