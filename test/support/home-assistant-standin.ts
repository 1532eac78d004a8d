// A stand-in for Home Assistant's REST API, for tests: a node:http server on 127.0.0.1 that answers
// the endpoints the relay uses with the shapes real Home Assistant sends (bearer auth, /api/config,
// check_config that really reads the YAML in its config dir, service calls, states, the UI's
// automation editor rewriting automations.yaml as HA does), records what the relay asked for, and
// misbehaves on demand: restarts that refuse connections like a real restart, a restart that
// never comes back, 500s, requests that hang.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { checkConfigDir } from './home-assistant-config-check.ts';
import { coreConfigJson } from './home-assistant-core-config.ts';
import { contextId, isRecord, listenOn, matches, readBody, sendJson, sendText } from './home-assistant-http.ts';
import { closeServer } from './ports.ts';
import { automationConfigRequest } from './home-assistant-ui-editor.ts';
import { SupervisorStandIn } from './home-assistant-standin-supervisor.ts';
import type { CoreState, EntityState, RecordedServiceCall, StateWrite, ShownNotification, InitialEntity, HomeAssistantStandInOptions, CheckConfigResult } from './home-assistant-standin-types.ts';

export { checkConfigDir } from './home-assistant-config-check.ts';
export type { CoreState, EntityState, RecordedServiceCall, StateWrite, ShownNotification, InitialEntity, HomeAssistantStandInOptions, CheckConfigResult } from './home-assistant-standin-types.ts';

const DEFAULT_FORCED_ERROR =
  "Invalid config for 'automation' at automations.yaml, line 3: required key 'triggers' not provided";
const ENTITY_ID = /^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$/;
const SLUG = /^[a-z0-9_]+$/;

export async function startHomeAssistantStandIn(options: HomeAssistantStandInOptions): Promise<HomeAssistantStandIn> {
  const standIn = new HomeAssistantStandIn(options);
  await standIn.listen();
  return standIn;
}

export class HomeAssistantStandIn {
  /** Every service call HA accepted, in order. */
  readonly serviceCalls: RecordedServiceCall[] = [];
  /** Persistent notifications, in order (relay-created and HA's own "Invalid config"). */
  readonly notifications: ShownNotification[] = [];
  /** How many times HA went down for a restart (or stop). */
  restarts = 0;
  /** The Supervisor beside it: its backups and jobs (home-assistant-standin-supervisor.ts). */
  readonly supervisor: SupervisorStandIn;

  private readonly options: Required<Pick<HomeAssistantStandInOptions, 'configDir' | 'token' | 'whileDown' | 'restartChecksConfig'>> &
    HomeAssistantStandInOptions;
  private server: Server | undefined;
  private portNumber = 0;
  private phase: 'up' | 'down' | 'closed' = 'down';
  private coreState: CoreState = 'RUNNING';
  private restartDelay: number;
  private comesBack = true;
  private forcedCheckError: string | undefined;
  private failing: RegExp | undefined;
  private hanging: RegExp | undefined;
  private readonly hung: Array<{ res: ServerResponse; resume: () => void }> = [];
  private readonly entities = new Map<string, EntityState>();
  private readonly history = new Map<string, StateWrite[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  // Going down and coming up are asynchronous; chaining them keeps close() from racing a re-listen.
  private lifecycle: Promise<void> = Promise.resolve();

  constructor(options: HomeAssistantStandInOptions) {
    this.options = { whileDown: 'refuse', restartChecksConfig: true, ...options, configDir: resolve(options.configDir) };
    this.restartDelay = options.restartDelayMs ?? 300;
    this.supervisor = new SupervisorStandIn(options.supervisorToken ?? 'standin-supervisor-token');
    if (options.failCheckConfig) this.failCheckConfig(options.failCheckConfig === true ? undefined : options.failCheckConfig);
    if (options.neverComeBack) this.comesBack = false;
    if (options.answer500) this.answer500(options.answer500 === true ? undefined : options.answer500);
    if (options.hang) this.hang(options.hang === true ? undefined : options.hang);
    this.setEntity('sun.sun', 'above_horizon', { friendly_name: 'Sun' });
    this.setEntity('zone.home', '0', { friendly_name: 'Home', latitude: 52.37, longitude: 4.89, radius: 100 });
    for (const entity of options.entities ?? []) this.setEntity(entity.entity_id, entity.state, entity.attributes ?? {});
  }

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  get port(): number {
    return this.portNumber;
  }

  /** `up`: answering; `down`: restarting (or stopped for good); `closed`: close() was called. */
  get status(): 'up' | 'down' | 'closed' {
    return this.phase;
  }

  /** Starts listening (port 0 picks a free one; later restarts reuse it). Called by startHomeAssistantStandIn. */
  async listen(): Promise<void> {
    await this.enqueue(() => this.comeUp());
  }

  // ---- what tests look at ----

  /** Every state written for an entity, oldest first. */
  stateHistory(entityId: string): StateWrite[] {
    return [...(this.history.get(entityId) ?? [])];
  }

  entity(entityId: string): EntityState | undefined {
    const found = this.entities.get(entityId);
    return found ? structuredClone(found) : undefined;
  }

  callsTo(domain: string, service: string): RecordedServiceCall[] {
    return this.serviceCalls.filter((call) => call.domain === domain && call.service === service);
  }

  /** Runs the same check as POST /api/config/core/check_config, without HTTP. */
  checkConfig(): CheckConfigResult {
    if (this.forcedCheckError !== undefined) return { result: 'invalid', errors: this.forcedCheckError, warnings: null };
    const errors = checkConfigDir(this.options.configDir);
    return errors.length === 0 ? { result: 'valid', errors: null, warnings: null } : { result: 'invalid', errors: errors.join('\n'), warnings: null };
  }

  // ---- state the test sets ----

  /** Creates or changes an entity, as an integration would. */
  setEntity(entityId: string, state: string, attributes: Record<string, unknown> = {}): void {
    this.writeState(entityId, state, attributes, 'test');
  }

  /** Marks an entity `unavailable` (its integration failed to set up), keeping its attributes. */
  setUnavailable(entityId: string): void {
    this.writeState(entityId, 'unavailable', this.entities.get(entityId)?.attributes ?? {}, 'test');
  }

  removeEntity(entityId: string): void {
    this.entities.delete(entityId);
  }

  // ---- misbehaviour ----

  /** check_config says invalid, whatever the files say. */
  failCheckConfig(errors: string = DEFAULT_FORCED_ERROR): void {
    this.forcedCheckError = errors;
  }

  setRestartDelay(ms: number): void {
    this.restartDelay = ms;
  }

  /** A restart takes HA down for good; if it is down right now, it stays down. */
  neverComeBack(): void {
    this.comesBack = false;
    if (this.phase === 'down') this.clearTimers();
  }

  /** Every request whose path matches (default: all) answers 500 like an HA that crashed inside. */
  answer500(paths: RegExp = /.*/): void {
    this.failing = paths;
  }

  /** Requests whose path matches (default: all) get no answer until reset(). */
  hang(paths: RegExp = /.*/): void {
    this.hanging = paths;
  }

  /** Behave again: forget every misbehaviour, answer the hung requests, and come back if down for good. */
  reset(): void {
    this.forcedCheckError = undefined;
    this.failing = undefined;
    this.hanging = undefined;
    this.comesBack = true;
    for (const { res, resume } of this.hung.splice(0)) if (!res.destroyed) resume();
    if (this.phase === 'down' && this.timers.size === 0) void this.enqueue(() => this.comeUp());
  }

  /** Restarts HA as `homeassistant.restart` does (without the config check): linger, down, back. */
  restart(): void {
    if (this.phase !== 'up') return;
    this.schedule(this.options.lingerAfterRestartMs ?? 0, () => this.goDownThenBack(this.comesBack));
  }

  /** Stops answering until reset() (or forever): a host that lost power. */
  takeDown(): void {
    if (this.phase !== 'up') return;
    void this.enqueue(() => this.goDown());
  }

  /** Releases the port, whatever state HA is in. Safe to call twice. */
  async close(): Promise<void> {
    this.clearTimers();
    this.supervisor.close();
    for (const { res } of this.hung.splice(0)) res.destroy();
    await this.enqueue(async () => {
      if (this.server) await closeServer(this.server);
      this.server = undefined;
      this.phase = 'closed';
    });
  }

  // ---- lifecycle ----

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(() => (this.phase === 'closed' ? undefined : step()));
    // A failed step must not wedge every later one (close() above all).
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  private schedule(ms: number, step: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.enqueue(step);
    }, ms);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async goDownThenBack(comesBack: boolean): Promise<void> {
    await this.goDown();
    this.restarts += 1;
    if (comesBack && this.comesBack) this.schedule(this.restartDelay, () => this.comeUp());
  }

  private async goDown(): Promise<void> {
    this.coreState = 'STOPPED';
    this.phase = 'down';
    for (const { res } of this.hung.splice(0)) res.destroy();
    if (this.options.whileDown === 'refuse' && this.server) {
      await closeServer(this.server);
      this.server = undefined;
    }
  }

  private async comeUp(): Promise<void> {
    if (!this.server) this.server = await listenOn(this.portNumber, (req, res) => this.handle(req, res));
    this.portNumber = (this.server.address() as AddressInfo).port;
    this.phase = 'up';
    const startingMs = this.options.startingMs ?? 0;
    if (startingMs > 0) {
      this.coreState = 'STARTING';
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.phase === 'up') this.coreState = 'RUNNING';
      }, startingMs);
      this.timers.add(timer);
    } else {
      this.coreState = 'RUNNING';
    }
  }

  // ---- HTTP ----

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    if (this.phase !== 'up') return sendText(res, 502, '502: Bad Gateway');
    if (matches(this.hanging, path)) {
      this.hung.push({ res, resume: () => this.handle(req, res) });
      return;
    }
    if (matches(this.failing, path)) return sendText(res, 500, '500 Internal Server Error\n\nServer got itself in trouble');
    if (this.supervisor.owns(path)) {
      readBody(req).then((body) => this.supervisor.handleSupervisor(req.method ?? 'GET', path.split('?', 1)[0]!, req.headers.authorization, body, res), () => res.destroy());
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.options.token}`) return sendText(res, 401, '401: Unauthorized');
    readBody(req).then(
      (body) => {
        try {
          this.route(req.method ?? 'GET', path, body, res);
        } catch (error) {
          // A bug in the stand-in (or a malformed %-escape): say so in the answer the test will see.
          sendText(res, 500, `500 Internal Server Error\n\nstand-in: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
      () => res.destroy(),
    );
  }

  private route(method: string, rawPath: string, body: string, res: ServerResponse): void {
    const path = rawPath.split('?', 1)[0]!;
    const only = (allowed: string): boolean => {
      if (method === allowed) return true;
      sendText(res, 405, '405: Method Not Allowed');
      return false;
    };
    if (path === '/api/') {
      if (only('GET')) sendJson(res, 200, { message: 'API running.' });
      return;
    }
    if (path === '/api/config') {
      if (only('GET')) {
        const config = coreConfigJson({ configDir: this.options.configDir, locationName: this.options.locationName, version: this.options.version, state: this.coreState });
        sendJson(res, 200, { ...config, components: [...(config.components as string[]), ...this.supervisor.components].sort() });
      }
      return;
    }
    if (path === '/api/config/core/check_config') {
      if (only('POST')) sendJson(res, 200, this.checkConfig());
      return;
    }
    if (path === '/api/states') {
      if (only('GET')) sendJson(res, 200, [...this.entities.values()]);
      return;
    }
    const automationMatch = /^\/api\/config\/automation\/config\/([^/]+)$/.exec(path);
    if (automationMatch) return this.routeAutomationEditor(method, decodeURIComponent(automationMatch[1]!), body, res);
    const stateMatch = /^\/api\/states\/([^/]+)$/.exec(path);
    if (stateMatch) return this.routeState(method, decodeURIComponent(stateMatch[1]!), body, res);
    const serviceMatch = /^\/api\/services\/([^/]+)\/([^/]+)$/.exec(path);
    if (serviceMatch) {
      if (only('POST')) this.callService(decodeURIComponent(serviceMatch[1]!), decodeURIComponent(serviceMatch[2]!), body, res, /[?&]return_response(=|&|$)/.test(rawPath));
      return;
    }
    if (path.startsWith('/api/hassio/')) return this.supervisor.handleCoreProxy(method, path.slice('/api/hassio/'.length), body, res);
    sendText(res, 404, '404: Not Found');
  }

  /** The UI's automation editor (home-assistant-ui-editor.ts); a save or delete reloads automations, as HA's hook does. */
  private routeAutomationEditor(method: string, id: string, body: string, res: ServerResponse): void {
    const answer = automationConfigRequest(this.options.configDir, method, id, body);
    if (answer.wrote) this.serviceCalls.push({ domain: 'automation', service: 'reload', data: { id }, at: new Date() });
    sendJson(res, answer.status, answer.body);
  }

  private routeState(method: string, entityId: string, body: string, res: ServerResponse): void {
    if (method === 'GET') {
      const found = this.entities.get(entityId);
      if (found) sendJson(res, 200, found);
      else sendJson(res, 404, { message: 'Entity not found.' });
      return;
    }
    if (method !== 'POST') return sendText(res, 405, '405: Method Not Allowed');
    let data: unknown;
    try {
      data = body ? JSON.parse(body) : null;
    } catch {
      return sendJson(res, 400, { message: 'Invalid JSON specified.' });
    }
    if (!isRecord(data)) return sendJson(res, 400, { message: 'Invalid JSON specified.' });
    if (data.state === undefined || data.state === null) return sendJson(res, 400, { message: 'No state specified.' });
    if (!ENTITY_ID.test(entityId)) return sendJson(res, 400, { message: 'Invalid entity ID specified.' });
    if (typeof data.state !== 'string' || data.state.length > 255) return sendJson(res, 400, { message: 'Invalid state specified.' });
    const attributes = isRecord(data.attributes) ? data.attributes : {};
    const isNew = !this.entities.has(entityId);
    const written = this.writeState(entityId, data.state, attributes, 'api');
    res.setHeader('Location', `/api/states/${entityId}`);
    sendJson(res, isNew ? 201 : 200, written);
  }

  private callService(domain: string, service: string, body: string, res: ServerResponse, wantsResponse = false): void {
    let data: unknown;
    try {
      data = body ? JSON.parse(body) : {};
    } catch {
      return sendJson(res, 400, { message: 'Data should be valid JSON.' });
    }
    // HA validates service data with voluptuous; a non-object fails that and the API says 400.
    if (!isRecord(data) || !SLUG.test(domain) || !SLUG.test(service)) return sendText(res, 400, '400: Bad Request');
    const at = new Date();
    if (this.supervisor.callService(domain, service, data, wantsResponse, res)) {
      this.serviceCalls.push({ domain, service, data, at });
      return;
    }

    if (domain === 'persistent_notification' && service === 'create') {
      if (typeof data.message !== 'string') return sendText(res, 400, '400: Bad Request');
      this.notifications.push({
        title: typeof data.title === 'string' ? data.title : undefined,
        message: data.message,
        notificationId: typeof data.notification_id === 'string' ? data.notification_id : undefined,
        at,
      });
    }

    if (domain === 'homeassistant' && (service === 'restart' || service === 'stop')) {
      // HA checks the config before it restarts or stops and refuses (an uncaught error: 500).
      if (this.options.restartChecksConfig && this.checkConfig().result === 'invalid') {
        this.serviceCalls.push({ domain, service, data, at });
        this.showInvalidConfig();
        return sendText(res, 500, '500 Internal Server Error\n\nServer got itself in trouble');
      }
      this.serviceCalls.push({ domain, service, data, at });
      res.setHeader('Connection', 'close');
      sendJson(res, 200, [], () => {
        if (this.phase !== 'up') return;
        this.schedule(this.options.lingerAfterRestartMs ?? 0, () => this.goDownThenBack(service === 'restart'));
      });
      return;
    }

    if (domain === 'homeassistant' && service === 'check_config' && this.checkConfig().result === 'invalid') this.showInvalidConfig();
    this.serviceCalls.push({ domain, service, data, at });
    sendJson(res, 200, []);
  }

  private showInvalidConfig(): void {
    this.notifications.push({
      title: 'Invalid config',
      message: 'The following integrations and platforms could not be set up. Please check your config.',
      notificationId: 'invalid_config',
      at: new Date(),
    });
  }

  private writeState(entityId: string, state: string, attributes: Record<string, unknown>, by: StateWrite['by']): EntityState {
    const now = new Date();
    const iso = now.toISOString();
    const previous = this.entities.get(entityId);
    const changed = previous?.state !== state;
    const entity: EntityState = {
      entity_id: entityId,
      state,
      attributes: structuredClone(attributes),
      last_changed: changed || !previous ? iso : previous.last_changed,
      last_reported: iso,
      last_updated: changed || JSON.stringify(previous?.attributes) !== JSON.stringify(attributes) ? iso : previous!.last_updated,
      context: { id: contextId(), parent_id: null, user_id: by === 'api' ? 'standin-user' : null },
    };
    this.entities.set(entityId, entity);
    const list = this.history.get(entityId) ?? [];
    list.push({ state, attributes: structuredClone(attributes), at: now, by });
    this.history.set(entityId, list);
    return entity;
  }

}
