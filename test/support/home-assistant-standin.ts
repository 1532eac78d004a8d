// A stand-in for Home Assistant's REST API, for tests: a node:http server on 127.0.0.1 that answers
// the endpoints the relay uses with the shapes real Home Assistant sends (bearer auth, /api/config,
// check_config that really reads the YAML in its config dir, service calls, states), records what
// the relay asked for, and misbehaves on demand: restarts that refuse connections like a real
// restart, a restart that never comes back, 500s, requests that hang.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { closeServer } from './ports.ts';
import { LineCounter, parseDocument, type ScalarTag } from 'yaml';

/** Home Assistant's CoreState values, as `/api/config` reports them in `state`. */
export type CoreState = 'NOT_RUNNING' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'FINAL_WRITE' | 'STOPPED';

export interface EntityState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
  last_changed: string;
  last_reported: string;
  last_updated: string;
  context: { id: string; parent_id: null; user_id: string | null };
}

export interface RecordedServiceCall {
  domain: string;
  service: string;
  /** The JSON body, `{}` when there was none. */
  data: Record<string, unknown>;
  at: Date;
}

export interface StateWrite {
  state: string;
  attributes: Record<string, unknown>;
  at: Date;
  /** `api`: written through POST /api/states (what the relay does); `test`: set by the test itself. */
  by: 'api' | 'test';
}

/** A persistent notification shown in HA, whether the relay created it or HA did (invalid config). */
export interface ShownNotification {
  title: string | undefined;
  message: string;
  notificationId: string | undefined;
  at: Date;
}

export interface InitialEntity {
  entity_id: string;
  state: string;
  attributes?: Record<string, unknown>;
}

export interface HomeAssistantStandInOptions {
  /** The config folder `check_config` reads (`configuration.yaml` and whatever it includes). */
  configDir: string;
  /** The only bearer token accepted (a long-lived access token in real life). */
  token: string;
  /** How long a restart keeps the API down. Default 300 ms. */
  restartDelayMs?: number;
  /**
   * How long the old instance keeps answering, still saying RUNNING, after a restart was asked for.
   * A real HA (notably under the Supervisor) does this for a moment; clients must not take it for
   * "already back". Default 0.
   */
  lingerAfterRestartMs?: number;
  /** After coming back, how long `/api/config` says `STARTING` before `RUNNING`. Default 0. */
  startingMs?: number;
  /**
   * What "down" looks like. `refuse` (default): the port is closed, like HA Core restarting on a
   * plain install. `bad_gateway`: every request answers 502, like the Supervisor's proxy
   * (`http://supervisor/core`) while Core restarts.
   */
  whileDown?: 'refuse' | 'bad_gateway';
  /** Like HA, refuse `homeassistant.restart` (500) when the config is invalid. Default true. */
  restartChecksConfig?: boolean;
  entities?: InitialEntity[];
  version?: string;
  locationName?: string;
  /** Start misbehaving right away; same meaning as the methods of the same name. */
  failCheckConfig?: string | true;
  neverComeBack?: boolean;
  answer500?: RegExp | true;
  hang?: RegExp | true;
}

export interface CheckConfigResult {
  result: 'valid' | 'invalid';
  errors: string | null;
  warnings: string | null;
}

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
      if (only('GET')) sendJson(res, 200, this.configJson());
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
    const stateMatch = /^\/api\/states\/([^/]+)$/.exec(path);
    if (stateMatch) return this.routeState(method, decodeURIComponent(stateMatch[1]!), body, res);
    const serviceMatch = /^\/api\/services\/([^/]+)\/([^/]+)$/.exec(path);
    if (serviceMatch) {
      if (only('POST')) this.callService(decodeURIComponent(serviceMatch[1]!), decodeURIComponent(serviceMatch[2]!), body, res);
      return;
    }
    sendText(res, 404, '404: Not Found');
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

  private callService(domain: string, service: string, body: string, res: ServerResponse): void {
    let data: unknown;
    try {
      data = body ? JSON.parse(body) : {};
    } catch {
      return sendJson(res, 400, { message: 'Data should be valid JSON.' });
    }
    // HA validates service data with voluptuous; a non-object fails that and the API says 400.
    if (!isRecord(data) || !SLUG.test(domain) || !SLUG.test(service)) return sendText(res, 400, '400: Bad Request');
    const at = new Date();

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

  private configJson(): Record<string, unknown> {
    return {
      allowlist_external_dirs: ['/media', join(this.options.configDir, 'www')],
      allowlist_external_urls: [],
      components: ['api', 'automation', 'config', 'frontend', 'homeassistant', 'http', 'persistent_notification', 'script', 'sun'],
      config_dir: this.options.configDir,
      config_source: 'yaml',
      country: 'NL',
      currency: 'EUR',
      debug: false,
      elevation: 2,
      external_url: null,
      internal_url: null,
      language: 'en',
      latitude: 52.37,
      location_name: this.options.locationName ?? 'Home',
      longitude: 4.89,
      radius: 100,
      recovery_mode: false,
      safe_mode: false,
      state: this.coreState,
      time_zone: 'Europe/Amsterdam',
      unit_system: {
        length: 'km',
        accumulated_precipitation: 'mm',
        area: 'm²',
        mass: 'g',
        pressure: 'Pa',
        temperature: '°C',
        volume: 'L',
        wind_speed: 'm/s',
      },
      version: this.options.version ?? '2025.6.1',
      whitelist_external_dirs: ['/media', join(this.options.configDir, 'www')],
    };
  }
}

// ---- HTTP plumbing ----

function listenOn(port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  // After a restart the port must be the same one the client knows; if the kernel has not let go of
  // it yet, try again for a while rather than moving to another port.
  const deadline = Date.now() + 5_000;
  return new Promise((resolvePromise, reject) => {
    const attempt = () => {
      const server = createServer(handler);
      server.keepAliveTimeout = 1_000;
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE' && port !== 0 && Date.now() < deadline) setTimeout(attempt, 25);
        else reject(error);
      });
      server.listen(port, '127.0.0.1', () => resolvePromise(server));
    };
    attempt();
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, done?: () => void): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body), done);
}

function sendText(res: ServerResponse, status: number, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function matches(pattern: RegExp | undefined, path: string): boolean {
  if (!pattern) return false;
  pattern.lastIndex = 0;
  return pattern.test(path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function contextId(): string {
  return crypto.randomUUID().replaceAll('-', '').slice(0, 26).toUpperCase();
}

// ---- check_config: HA's YAML loader, enough of it to find what HA would refuse ----

interface LoadContext {
  configDir: string;
  errors: string[];
  /** Files being loaded, outermost first: an include of one of them is a cycle. */
  stack: string[];
  secrets: Map<string, Record<string, unknown> | null>;
}

/** Problems HA's config check would report for this config folder; empty when it is valid. */
export function checkConfigDir(configDir: string): string[] {
  const root = join(configDir, 'configuration.yaml');
  if (!isFile(root)) return ['File configuration.yaml not found.'];
  const context: LoadContext = { configDir, errors: [], stack: [], secrets: new Map() };
  const config = loadYamlFile(root, context);
  if (context.errors.length === 0) {
    if (!isRecord(config)) {
      context.errors.push(`Configuration file ${root} does not contain a mapping at the top level.`);
    } else {
      const core = config.homeassistant;
      if (isRecord(core) && core.packages !== undefined && core.packages !== null && !isRecord(core.packages)) {
        context.errors.push("Invalid config for 'homeassistant': 'packages' must be a mapping of package names to package configs.");
      }
    }
  }
  // HA's check names the top-level file it was loading and then the underlying problem.
  return context.errors.map((error) => `Error loading ${root}: ${error}`);
}

function loadYamlFile(file: string, context: LoadContext): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    context.errors.push(`Unable to read file ${file}.`);
    return null;
  }
  const lineCounter = new LineCounter();
  context.stack.push(file);
  try {
    // HA reads YAML with PyYAML: YAML 1.1 (merge keys, yes/no booleans), duplicate keys allowed.
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, customTags: haTags(file, context), uniqueKeys: false, version: '1.1' });
    const where = (offset: number) => {
      const { line, col } = lineCounter.linePos(offset);
      return `in "${file}", line ${line}, column ${col}`;
    };
    for (const error of doc.errors) context.errors.push(`${where(error.pos[0])}: ${error.message}`);
    // PyYAML has no fallback for tags it does not know; HA fails the whole file.
    for (const warning of doc.warnings) {
      if (warning.code !== 'TAG_RESOLVE_FAILED') continue;
      const tag = warning.message.replace(/^Unresolved tag: /, '');
      context.errors.push(`${where(warning.pos[0])}: could not determine a constructor for the tag '${tag}'`);
    }
    // HA turns an empty file into an empty mapping.
    return doc.toJS() ?? {};
  } finally {
    context.stack.pop();
  }
}

function haTags(file: string, context: LoadContext): ScalarTag[] {
  const here = dirname(file);
  const include = (target: string, onError: (message: string) => void): unknown => {
    const path = resolve(here, target.trim());
    let problem: string | undefined;
    if (!target.trim()) problem = '!include needs a file name';
    else if (context.stack.includes(path)) {
      // HA itself would recurse until Python gives up; naming the loop is kinder.
      const loop = [...context.stack.slice(context.stack.indexOf(path)), path].map((p) => relative(context.configDir, p));
      problem = `Include cycle: ${loop.join(' -> ')}`;
    } else if (!isFile(path)) problem = `Unable to read file ${path}.`;
    if (problem === undefined) return loadYamlFile(path, context);
    onError(problem);
    return null;
  };
  const dirFiles = (target: string): string[] => yamlFilesUnder(resolve(here, target.trim())).filter((p) => !context.stack.includes(p));
  return [
    { tag: '!include', resolve: include },
    { tag: '!include_dir_list', resolve: (target) => dirFiles(target).map((path) => loadYamlFile(path, context)) },
    {
      tag: '!include_dir_named',
      resolve: (target) => Object.fromEntries(dirFiles(target).map((path) => [basename(path, extname(path)), loadYamlFile(path, context)])),
    },
    {
      tag: '!include_dir_merge_list',
      resolve: (target) => dirFiles(target).flatMap((path) => {
        const loaded = loadYamlFile(path, context);
        return Array.isArray(loaded) ? loaded : [];
      }),
    },
    {
      tag: '!include_dir_merge_named',
      resolve: (target) => {
        const merged: Record<string, unknown> = {};
        for (const path of dirFiles(target)) {
          const loaded = loadYamlFile(path, context);
          if (isRecord(loaded)) Object.assign(merged, loaded);
        }
        return merged;
      },
    },
    {
      tag: '!secret',
      resolve: (name, onError) => {
        const value = lookUpSecret(here, name.trim(), context);
        if (value === undefined) onError(`Secret ${name.trim()} not defined`);
        return value ?? null;
      },
    },
    {
      tag: '!env_var',
      resolve: (value) => {
        const [name = '', ...fallback] = value.trim().split(/\s+/);
        return process.env[name] ?? (fallback.length > 0 ? fallback.join(' ') : '');
      },
    },
    // Blueprints use !input; HA accepts it when loading the files that hold them.
    { tag: '!input', resolve: (value) => ({ __input: value }) },
  ];
}

/** HA looks for secrets.yaml next to the file, then in each parent up to the config folder. */
function lookUpSecret(fromDir: string, name: string, context: LoadContext): unknown {
  let dir = fromDir;
  for (;;) {
    const secrets = readSecrets(dir, context);
    if (secrets && Object.hasOwn(secrets, name)) return secrets[name];
    if (dir === context.configDir || !dir.startsWith(context.configDir) || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

function readSecrets(dir: string, context: LoadContext): Record<string, unknown> | null {
  if (context.secrets.has(dir)) return context.secrets.get(dir)!;
  const file = join(dir, 'secrets.yaml');
  let secrets: Record<string, unknown> | null = null;
  if (isFile(file)) {
    const errors: string[] = [];
    const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
    for (const error of doc.errors) errors.push(`in "${file}": ${error.message}`);
    const value: unknown = doc.toJS();
    if (errors.length > 0) context.errors.push(...errors);
    else if (value !== null && !isRecord(value)) context.errors.push(`Secrets file ${file} is not a mapping.`);
    else secrets = isRecord(value) ? value : {};
  }
  context.secrets.set(dir, secrets);
  return secrets;
}

/** Like HA's _find_files: every *.yaml below a folder, sorted, skipping dot-files and secrets.yaml. */
function yamlFilesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    // HA walks a missing folder as an empty one: no error, nothing included.
    return [];
  }
  const files: string[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) files.push(...yamlFilesUnder(path));
    else if (stat?.isFile() && name.endsWith('.yaml') && name !== 'secrets.yaml') files.push(path);
  }
  return files;
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}
