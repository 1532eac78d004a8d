// The relay's client for Home Assistant's REST API: is it up, is the config valid, reload or restart
// it, wait until it is really back (not the old instance still answering), publish the deployment
// state as a sensor, and show a persistent notification. Every request has a timeout; every
// failure is a HomeAssistantError whose code says what kind of failure and whose message names the
// URL and what to do. An invalid config and "not back in time" are answers, not errors: they are
// returned as values because the pipeline acts on them (it rolls back).
import { ApiRunning, ChangedStates, CheckConfigResponse, EntityState, HomeAssistantConfigInfo, type ConfigCheck } from './answers.ts';
import { normalizeBaseUrl } from './endpoint.ts';
import { HomeAssistantError } from './errors.ts';
import { checkEntityId, checkServiceName } from './names.ts';
import { reloadServiceFor } from './reload-services.ts';
import { requestHomeAssistant, type HomeAssistantConnection } from './request.ts';

export interface HomeAssistantClientOptions {
  baseUrl: string;
  token: string;
  /** Per request. Default 10 s. */
  requestTimeoutMs?: number;
  /** HA's full config check can take far longer than a plain request. Default 120 s. */
  checkConfigTimeoutMs?: number;
}

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

export interface RestartRequest {
  /** HA answered the call. False when the connection dropped or timed out, which a restarting HA does. */
  acknowledged: boolean;
  detail?: string;
}

const NOT_READY_STATES = new Set(['unavailable', 'unknown']);

export class HomeAssistantClient {
  readonly baseUrl: string;
  private readonly connection: HomeAssistantConnection;
  private readonly checkConfigTimeoutMs: number;

  constructor(options: HomeAssistantClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.connection = { baseUrl: this.baseUrl, token: options.token, requestTimeoutMs: options.requestTimeoutMs ?? 10_000 };
    this.checkConfigTimeoutMs = options.checkConfigTimeoutMs ?? 120_000;
  }

  /** GET /api/: resolves when HA answers "API running.", throws a HomeAssistantError otherwise. */
  async ping(): Promise<void> {
    await requestHomeAssistant(this.connection, 'GET', '/', ApiRunning);
  }

  async config(): Promise<HomeAssistantConfigInfo> {
    return requestHomeAssistant(this.connection, 'GET', '/config', HomeAssistantConfigInfo);
  }

  /** Asks HA to check the config on its disk (the files the deploy just wrote). */
  async checkConfig(): Promise<ConfigCheck> {
    const answer = await requestHomeAssistant(this.connection, 'POST', '/config/core/check_config', CheckConfigResponse, {
      timeoutMs: this.checkConfigTimeoutMs,
      timeoutSetting: 'homeAssistant.checkConfigTimeoutSeconds',
    });
    const warnings = answer.warnings ?? undefined;
    if (answer.result === 'valid') return warnings ? { valid: true, warnings } : { valid: true };
    const errors = answer.errors ?? 'Home Assistant said the config is invalid but gave no details; see its log.';
    return warnings ? { valid: false, errors, warnings } : { valid: false, errors };
  }

  /** Calls a service and returns the states it changed. */
  async callService(domain: string, service: string, data: Record<string, unknown> = {}): Promise<EntityState[]> {
    checkServiceName(domain, service);
    return requestHomeAssistant(this.connection, 'POST', `/services/${domain}/${service}`, ChangedStates, { body: data });
  }

  /** Reloads one config domain's YAML; throws invalid_argument for a domain that needs a restart. */
  async reload(domain: string): Promise<void> {
    const ref = reloadServiceFor(domain);
    if (!ref) {
      throw new HomeAssistantError('invalid_argument', `Home Assistant cannot reload "${domain}" without a restart: restart it instead.`);
    }
    await this.callService(ref.domain, ref.service);
  }

  /**
   * Asks HA to restart. The connection may drop or time out as HA goes down; that is expected and
   * reported as `acknowledged: false`, not thrown. HA refusing (invalid config: 500) is thrown.
   */
  async restart(): Promise<RestartRequest> {
    try {
      await this.callService('homeassistant', 'restart');
      return { acknowledged: true };
    } catch (error) {
      if (error instanceof HomeAssistantError && (error.code === 'unreachable' || error.code === 'timeout')) {
        return { acknowledged: false, detail: error.detail };
      }
      throw error;
    }
  }

  /** The entity's state, or null when HA does not know it. */
  async state(entityId: string): Promise<EntityState | null> {
    checkEntityId(entityId);
    return requestHomeAssistant(this.connection, 'GET', `/states/${entityId}`, EntityState, { notFoundIsNull: true });
  }

  /** Creates or replaces an entity's state (attributes are replaced, not merged). */
  async setState(entityId: string, state: string, attributes: Record<string, unknown> = {}): Promise<EntityState> {
    checkEntityId(entityId);
    return requestHomeAssistant(this.connection, 'POST', `/states/${entityId}`, EntityState, { body: { state, attributes } });
  }

  /** Shows a persistent notification; the same id replaces the previous one instead of piling up. */
  async notify(title: string, message: string, notificationId?: string): Promise<void> {
    const data: Record<string, unknown> = { title, message };
    if (notificationId !== undefined) data.notification_id = notificationId;
    await this.callService('persistent_notification', 'create', data);
  }

  /**
   * Polls GET /api/ and GET /api/config (and each required entity) until HA says RUNNING and the
   * entities are ready. Never throws for HA being down or slow: that is the answer `ready: false`,
   * with what was still wrong at the deadline. A rejected token ends the wait at once.
   */
  async waitUntilRunning(options: WaitOptions): Promise<Readiness> {
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
      const budget = Math.min(this.connection.requestTimeoutMs, options.timeoutMs - elapsed());
      const reason = await this.probe(required, Math.max(1, budget), options.signal);
      if (reason?.kind === 'unauthorized') return this.notReady(reason, elapsed());
      // A last probe cut short by the deadline says less about what was wrong than the one before.
      const cutShort = reason?.kind === 'unreachable' && reason.error.code === 'timeout' && budget < this.connection.requestTimeoutMs;
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
      if (left <= 0 && lastReason) return this.notReady(lastReason, elapsed());
      options.onWait?.(elapsed());
      await sleep(Math.min(pollMs, Math.max(0, left)), options.signal);
    }
  }

  // ---- internals ----

  /** One look at HA: undefined when it is running with every required entity ready. */
  private async probe(required: readonly string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<NotReadyReason | undefined> {
    try {
      await requestHomeAssistant(this.connection, 'GET', '/', ApiRunning, { timeoutMs, signal });
      const { state } = await requestHomeAssistant(this.connection, 'GET', '/config', HomeAssistantConfigInfo, { timeoutMs, signal });
      if (state !== 'RUNNING') return { kind: 'state', state };
      const missing: Array<{ entityId: string; state: string | null }> = [];
      for (const entityId of required) {
        const found = await requestHomeAssistant(this.connection, 'GET', `/states/${entityId}`, EntityState, { timeoutMs, signal, notFoundIsNull: true });
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

  private notReady(reason: NotReadyReason, elapsedMs: number): Readiness {
    const after = `after ${(elapsedMs / 1000).toFixed(1)} s`;
    let message: string;
    switch (reason.kind) {
      case 'unreachable':
        message = `Home Assistant at ${this.baseUrl} was not back ${after}: ${reason.error.detail}. Look at the Home Assistant host: it may still be starting, or it failed to start.`;
        break;
      case 'bad_response':
        message = `Home Assistant at ${this.baseUrl} was answering with errors ${after}: ${reason.error.detail}. Check the Home Assistant log.`;
        break;
      case 'unauthorized':
        message = reason.error.message;
        break;
      case 'state':
        message = `Home Assistant at ${this.baseUrl} was still ${reason.state}, not RUNNING, ${after}. Check the Home Assistant log for what holds up startup.`;
        break;
      case 'entities': {
        const list = reason.entities.map((e) => (e.state === null ? `${e.entityId} does not exist` : `${e.entityId} is ${e.state}`)).join(', ');
        message = `Home Assistant at ${this.baseUrl} is running, but ${after} ${list}. Check the integrations behind them in the Home Assistant log.`;
        break;
      }
      default: {
        const never: never = reason;
        throw new Error(`unhandled readiness ${JSON.stringify(never)}`);
      }
    }
    return { ready: false, tookMs: Math.round(elapsedMs), reason, message };
  }
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
