// Waiting for Home Assistant to be running and healthy after a deploy's reload or restart (the verify
// step): polls until HA says RUNNING with the required entities ready, without taking the old
// instance still answering right after restart() for the new one. "Not back in time" is an answer
// (`ready: false` with what was still wrong), not an error: the pipeline rolls back on it.
import { ApiRunning, EntityState, HomeAssistantConfigInfo } from './answers.ts';
import { HomeAssistantError } from './errors.ts';
import { checkEntityId } from './names.ts';
import { requestHomeAssistant, type HomeAssistantConnection } from './request.ts';

export interface WaitOptions {
  /** Give up after this long and say what was still wrong. */
  timeoutMs: number;
  /** Between polls. Default 1 s. */
  pollMs?: number;
  /** Entities that must exist and be neither `unavailable` nor `unknown`. */
  requiredEntities?: readonly string[];
  /**
   * Set right after restart(): first wait until HA is seen going down (unreachable, a 5xx from the
   * Supervisor's proxy, or a state other than RUNNING), so the old instance still answering RUNNING
   * is not taken for the new one. If it is not seen going down within `downGraceMs`, the restart is
   * assumed to have happened between two polls and waiting carries on as usual (`sawDown: false`).
   */
  afterRestart?: boolean;
  /** Default 10 s, never more than half of `timeoutMs`. */
  downGraceMs?: number;
  /** Stops waiting (rejects with the signal's reason), e.g. when the deployment is cancelled. */
  signal?: AbortSignal;
  /** Called after each poll that found HA not ready yet, with the time waited so far. */
  onWait?: (elapsedMs: number) => void;
}

export type NotReadyReason =
  | { kind: 'unreachable'; error: HomeAssistantError }
  | { kind: 'bad_response'; error: HomeAssistantError }
  | { kind: 'unauthorized'; error: HomeAssistantError }
  | { kind: 'state'; state: string }
  | { kind: 'entities'; entities: Array<{ entityId: string; state: string | null }> };

export type Readiness =
  | { ready: true; tookMs: number; sawDown: boolean }
  | { ready: false; tookMs: number; reason: NotReadyReason; message: string };

const NOT_READY_STATES = new Set(['unavailable', 'unknown']);

/**
 * Polls GET /api/ and GET /api/config (and each required entity) until HA says RUNNING and the
 * entities are ready. Never throws for HA being down or slow: that is the answer `ready: false`,
 * with what was still wrong at the deadline. A rejected token ends the wait at once.
 */
export async function pollUntilRunning(connection: HomeAssistantConnection, options: WaitOptions): Promise<Readiness> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const pollMs = options.pollMs ?? 1_000;
  const required = options.requiredEntities ?? [];
  for (const entityId of required) checkEntityId(entityId);
  // At most half the wait: a grace as long as the whole wait would end it on the last probe,
  // cut short by the deadline, and report an HA that answered all along as not back.
  const downGraceMs = Math.min(options.downGraceMs ?? 10_000, options.timeoutMs / 2);
  let awaitingDown = options.afterRestart === true;
  let sawDown = false;

  let lastReason: NotReadyReason | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const budget = Math.min(connection.requestTimeoutMs, options.timeoutMs - elapsed());
    const reason = await probe(connection, required, Math.max(1, budget), options.signal);
    if (reason?.kind === 'unauthorized') return notReady(connection, reason, elapsed());
    // A last probe cut short by the deadline says less about what was wrong than the one before.
    const cutShort = reason?.kind === 'unreachable' && reason.error.code === 'timeout' && budget < connection.requestTimeoutMs;
    if (reason && !(cutShort && lastReason)) lastReason = reason;
    if (awaitingDown) {
      // RUNNING with entities not ready may well be the old instance too: only "not running" counts as down.
      if (reason && reason.kind !== 'entities' && !cutShort) {
        sawDown = true;
        awaitingDown = false;
      } else if (elapsed() >= downGraceMs) {
        awaitingDown = false;
      }
    }
    if (!awaitingDown && reason === undefined) return { ready: true, tookMs: Math.round(elapsed()), sawDown };
    const left = options.timeoutMs - elapsed();
    if (left <= 0 && lastReason) return notReady(connection, lastReason, elapsed());
    options.onWait?.(elapsed());
    await sleep(Math.min(pollMs, Math.max(0, left)), options.signal);
  }
}

/** One look at HA: undefined when it is running with every required entity ready. */
async function probe(connection: HomeAssistantConnection, required: readonly string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<NotReadyReason | undefined> {
  try {
    await requestHomeAssistant(connection, 'GET', '/', ApiRunning, { timeoutMs, signal });
    const { state } = await requestHomeAssistant(connection, 'GET', '/config', HomeAssistantConfigInfo, { timeoutMs, signal });
    if (state !== 'RUNNING') return { kind: 'state', state };
    const missing: Array<{ entityId: string; state: string | null }> = [];
    for (const entityId of required) {
      const found = await requestHomeAssistant(connection, 'GET', `/states/${entityId}`, EntityState, { timeoutMs, signal, notFoundIsNull: true });
      if (!found || NOT_READY_STATES.has(found.state)) missing.push({ entityId, state: found?.state ?? null });
    }
    return missing.length > 0 ? { kind: 'entities', entities: missing } : undefined;
  } catch (error) {
    if (!(error instanceof HomeAssistantError)) throw error;
    switch (error.code) {
      case 'unauthorized':
        return { kind: 'unauthorized', error };
      case 'bad_response':
        return { kind: 'bad_response', error };
      default:
        return { kind: 'unreachable', error };
    }
  }
}

function notReady(connection: HomeAssistantConnection, reason: NotReadyReason, elapsedMs: number): Readiness {
  const after = `after ${(elapsedMs / 1000).toFixed(1)} s`;
  let message: string;
  switch (reason.kind) {
    case 'unreachable':
      message = `Home Assistant at ${connection.baseUrl} was not back ${after}: ${reason.error.detail}. Look at the Home Assistant host: it may still be starting, or it failed to start.`;
      break;
    case 'bad_response':
      message = `Home Assistant at ${connection.baseUrl} was answering with errors ${after}: ${reason.error.detail}. Check the Home Assistant log.`;
      break;
    case 'unauthorized':
      message = reason.error.message;
      break;
    case 'state':
      message = `Home Assistant at ${connection.baseUrl} was still ${reason.state}, not RUNNING, ${after}. Check the Home Assistant log for what holds up startup.`;
      break;
    case 'entities': {
      const list = reason.entities.map((e) => (e.state === null ? `${e.entityId} does not exist` : `${e.entityId} is ${e.state}`)).join(', ');
      message = `Home Assistant at ${connection.baseUrl} is running, but ${after} ${list}. Check the integrations behind them in the Home Assistant log.`;
      break;
    }
    default: {
      const never: never = reason;
      throw new Error(`unhandled readiness ${JSON.stringify(never)}`);
    }
  }
  return { ready: false, tookMs: Math.round(elapsedMs), reason, message };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
