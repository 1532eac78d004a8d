// The relay's client for Home Assistant's REST API: is it up, is the config valid, reload or restart
// it, wait until it is really back (not the old instance still answering), publish the deployment
// state as a sensor, and show a persistent notification. Every request has a timeout; every
// failure is a HomeAssistantError whose code says what kind of failure and whose message names the
// URL and what to do. An invalid config and "not back in time" are answers, not errors: they are
// returned as values because the pipeline acts on them (it rolls back).
import { z } from 'zod';
import { ApiRunning, ChangedStates, CheckConfigResponse, EntityState, HomeAssistantConfigInfo, type ConfigCheck } from './answers.ts';
import { normalizeBaseUrl } from './endpoint.ts';
import { HomeAssistantError } from './errors.ts';
import { checkEntityId, checkServiceName } from './names.ts';
import { reloadServiceFor } from './reload-services.ts';

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
  private readonly token: string;
  private readonly requestTimeoutMs: number;
  private readonly checkConfigTimeoutMs: number;

  constructor(options: HomeAssistantClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.token = options.token;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.checkConfigTimeoutMs = options.checkConfigTimeoutMs ?? 120_000;
  }

  /** GET /api/: resolves when HA answers "API running.", throws a HomeAssistantError otherwise. */
  async ping(): Promise<void> {
    await this.request('GET', '/', ApiRunning);
  }

  async config(): Promise<HomeAssistantConfigInfo> {
    return this.request('GET', '/config', HomeAssistantConfigInfo);
  }

  /** Asks HA to check the config on its disk (the files the deploy just wrote). */
  async checkConfig(): Promise<ConfigCheck> {
    const answer = await this.request('POST', '/config/core/check_config', CheckConfigResponse, {
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
    return this.request('POST', `/services/${domain}/${service}`, ChangedStates, { body: data });
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
    return this.request('GET', `/states/${entityId}`, EntityState, { notFoundIsNull: true });
  }

  /** Creates or replaces an entity's state (attributes are replaced, not merged). */
  async setState(entityId: string, state: string, attributes: Record<string, unknown> = {}): Promise<EntityState> {
    checkEntityId(entityId);
    return this.request('POST', `/states/${entityId}`, EntityState, { body: { state, attributes } });
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
      const budget = Math.min(this.requestTimeoutMs, options.timeoutMs - elapsed());
      const reason = await this.probe(required, Math.max(1, budget), options.signal);
      if (reason?.kind === 'unauthorized') return this.notReady(reason, elapsed());
      // A last probe cut short by the deadline says less about what was wrong than the one before.
      const cutShort = reason?.kind === 'unreachable' && reason.error.code === 'timeout' && budget < this.requestTimeoutMs;
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
      await this.request('GET', '/', ApiRunning, { timeoutMs, signal });
      const { state } = await this.request('GET', '/config', HomeAssistantConfigInfo, { timeoutMs, signal });
      if (state !== 'RUNNING') return { kind: 'state', state };
      const missing: Array<{ entityId: string; state: string | null }> = [];
      for (const entityId of required) {
        const found = await this.request('GET', `/states/${entityId}`, EntityState, { timeoutMs, signal, notFoundIsNull: true });
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

  private request<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, options?: RequestOptions & { notFoundIsNull?: false }): Promise<T>;
  private request<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, options: RequestOptions & { notFoundIsNull: true }): Promise<T | null>;
  private async request<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    options: RequestOptions & { notFoundIsNull?: boolean } = {},
  ): Promise<T | null> {
    const url = `${this.baseUrl}/api${path}`;
    // AbortSignal.timeout wants a whole number of milliseconds.
    const timeoutMs = Math.max(1, Math.ceil(options.timeoutMs ?? this.requestTimeoutMs));
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const what = `${method} ${url}`;

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal });
      // The timeout covers the body too: a proxy can send headers and then stall.
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) {
        throw new HomeAssistantError(
          'timeout',
          `Home Assistant did not answer ${what} within ${timeoutMs} ms. It may be busy or starting; if it is just slow, raise ${options.timeoutSetting ?? 'homeAssistant.requestTimeoutSeconds'}.`,
          { url, detail: `no answer within ${timeoutMs} ms (${what})` },
        );
      }
      const cause = networkCause(error);
      throw new HomeAssistantError(
        'unreachable',
        `Could not reach Home Assistant (${what}): ${cause}. Check that Home Assistant is running and that homeAssistant.url is right.`,
        { url, detail: `${cause} (${what})` },
      );
    }

    if (response.status === 401 || response.status === 403) {
      throw new HomeAssistantError(
        'unauthorized',
        `Home Assistant refused the relay's token (HTTP ${response.status} from ${what}). Create a long-lived access token in your Home Assistant profile and put it in homeAssistant.token.`,
        { url, status: response.status, detail: `HTTP ${response.status} (${what})` },
      );
    }
    if (response.status === 404 && options.notFoundIsNull) return null;
    if (response.status === 502 || response.status === 503 || response.status === 504) {
      // A proxy in front of HA (the Supervisor's, or a reverse proxy) answering for an HA that is down.
      throw new HomeAssistantError(
        'unreachable',
        `Home Assistant is not answering behind its proxy (HTTP ${response.status} from ${what}). It may be restarting; check that it is running.`,
        { url, status: response.status, detail: `HTTP ${response.status} from the proxy (${what})` },
      );
    }
    if (!response.ok) {
      const said = excerpt(haMessage(text));
      throw new HomeAssistantError(
        'bad_response',
        `Home Assistant answered ${what} with HTTP ${response.status}${said ? `: ${said}` : ''}. Check the Home Assistant log.`,
        { url, status: response.status, detail: `HTTP ${response.status}${said ? `: ${said}` : ''} (${what})` },
      );
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw badBody(url, what, response.status, `not JSON: ${excerpt(text)}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(the body)'}: ${issue.message}`).join('; ');
      throw badBody(url, what, response.status, issues);
    }
    return parsed.data;
  }
}

interface RequestOptions {
  body?: unknown;
  timeoutMs?: number;
  /** The relay setting that governs `timeoutMs`, named in the timeout error so the advice is right. */
  timeoutSetting?: string;
  signal?: AbortSignal | undefined;
}

function badBody(url: string, what: string, status: number, problem: string): HomeAssistantError {
  return new HomeAssistantError(
    'bad_response',
    `Home Assistant answered ${what} with something that is not what its API returns (${problem}). Is homeAssistant.url really Home Assistant?`,
    { url, status, detail: `unexpected body: ${problem} (${what})` },
  );
}

/** HA's JSON errors are `{"message": "..."}`; its others are plain text like "400: Bad Request". */
function haMessage(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the text is the message.
  }
  return text;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** Turns undici's "fetch failed" into what happened on the network. */
function networkCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? (error.cause as NodeJS.ErrnoException) : undefined;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'the connection was closed before Home Assistant answered';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name could not be resolved (${cause.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${cause.code})`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connecting timed out';
    default:
      // fetch refuses a few well-known ports (e.g. 6000) outright and says only "bad port".
      if (cause?.message === 'bad port') return 'fetch refuses to connect to that port; use another one for Home Assistant';
      return cause?.message ?? (error instanceof Error ? error.message : String(error));
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
