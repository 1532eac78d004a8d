// The relay's client for Home Assistant's REST API: is it up, is the config valid, reload or restart
// it, wait until it is really back (not the old instance still answering), publish the deployment
// state as a sensor, and show a persistent notification. Every request has a timeout; every
// failure is a HomeAssistantError whose code says what kind of failure and whose message names the
// URL and what to do. An invalid config and "not back in time" are answers, not errors: they are
// returned as values because the pipeline acts on them (it rolls back).
// Beside it: endpoint.ts (where HA is), request.ts (one request), readiness.ts (the wait),
// answers.ts (HA's answers), errors.ts, names.ts (entity and service names), reload-services.ts.
import { ApiRunning, ChangedStates, CheckConfigResponse, EntityState, HomeAssistantConfigInfo, type ConfigCheck } from './answers.ts';
import { normalizeBaseUrl } from './endpoint.ts';
import { HomeAssistantError } from './errors.ts';
import { checkEntityId, checkServiceName } from './names.ts';
import { pollUntilRunning, type Readiness, type WaitOptions } from './readiness.ts';
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

export interface RestartRequest {
  /** HA answered the call. False when the connection dropped or timed out, which a restarting HA does. */
  acknowledged: boolean;
  detail?: string;
}

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

  /** Waits until HA is RUNNING with the required entities ready; `ready: false` when not by the deadline (readiness.ts). */
  waitUntilRunning(options: WaitOptions): Promise<Readiness> {
    return pollUntilRunning(this.connection, options);
  }
}
