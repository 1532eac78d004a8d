// The repository webhooks part of the GitHub stand-in (github-standin.ts routes to it): create,
// list and update a repository's hooks as GitHub's REST API does (POST/GET/PATCH
// /repos/{owner}/{repo}/hooks), and deliver to the hooks it holds as GitHub does: a signed `ping`
// the moment a hook is created, and a signed `push` when a test pushes. The secret is never shown
// back (GitHub answers "********"), and a delivery is recorded with the answer it got.
import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';

export interface StandInHook {
  id: number;
  owner: string;
  repo: string;
  active: boolean;
  events: string[];
  config: { url: string; content_type: string; secret: string; insecure_ssl: string };
}

export interface HookDelivery {
  hookId: number;
  event: string;
  deliveryId: string;
  /** The HTTP status the receiver answered (0: it could not be reached). */
  status: number;
  answer: string;
}

export interface HookRequest {
  method: string;
  pathname: string;
  body: unknown;
}

export interface HookAnswer {
  status: number;
  body: unknown;
}

const HOOKS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/hooks(?:\/(\d+))?$/;
const CONTENT_TYPES = new Set(['json', 'form']);

export class GithubHooks {
  readonly hooks: StandInHook[] = [];
  readonly deliveries: HookDelivery[] = [];
  private nextId = 500_000;

  constructor(private readonly baseUrl: () => string) {}

  /** Answers a hooks request, or null when the path is not a hooks path. */
  async handle(request: HookRequest): Promise<HookAnswer | null> {
    const match = HOOKS_PATH.exec(request.pathname);
    if (!match) return null;
    const [, owner, repo, id] = match as unknown as [string, string, string, string | undefined];
    if (!id && request.method === 'GET') return { status: 200, body: this.hooks.filter((h) => h.owner === owner && h.repo === repo).map((h) => this.view(h)) };
    if (!id && request.method === 'POST') return this.create(owner, repo, request.body);
    const hook = id ? this.hooks.find((h) => h.id === Number(id) && h.owner === owner && h.repo === repo) : undefined;
    if (id && !hook) return { status: 404, body: { message: 'Not Found' } };
    if (hook && request.method === 'GET') return { status: 200, body: this.view(hook) };
    if (hook && request.method === 'PATCH') return this.update(hook, request.body);
    return { status: 404, body: { message: 'Not Found' } };
  }

  /** Delivers a `push` to every active hook of the repository that asked for pushes; resolves with their deliveries. */
  async deliverPush(fullName: string, payload: unknown): Promise<HookDelivery[]> {
    const [owner, repo] = fullName.split('/');
    const targets = this.hooks.filter((h) => h.owner === owner && h.repo === repo && h.active && (h.events.includes('push') || h.events.includes('*')));
    return Promise.all(targets.map((h) => this.deliver(h, 'push', payload)));
  }

  private async create(owner: string, repo: string, body: unknown): Promise<HookAnswer> {
    const b = (body ?? {}) as { name?: unknown; active?: unknown; events?: unknown; config?: Record<string, unknown> };
    const problem = this.check(b, true);
    if (problem) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: problem }] } };
    const config = b.config!;
    if (this.hooks.some((h) => h.owner === owner && h.repo === repo && h.config.url === config.url)) {
      return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Hook already exists on this repository' }] } };
    }
    const hook: StandInHook = {
      id: this.nextId++,
      owner,
      repo,
      active: b.active === undefined ? true : Boolean(b.active),
      events: (b.events as string[] | undefined) ?? ['push'],
      config: { url: String(config.url), content_type: String(config.content_type ?? 'form'), secret: String(config.secret ?? ''), insecure_ssl: String(config.insecure_ssl ?? '0') },
    };
    this.hooks.push(hook);
    // GitHub pings a new hook right after answering, with the hook itself in the payload.
    void this.deliver(hook, 'ping', { zen: 'Design for failure.', hook_id: hook.id, hook: this.view(hook), repository: this.repository(hook), sender: { login: owner, id: 1, type: 'User' } });
    return { status: 201, body: this.view(hook) };
  }

  private async update(hook: StandInHook, body: unknown): Promise<HookAnswer> {
    const b = (body ?? {}) as { active?: unknown; events?: unknown; config?: Record<string, unknown> };
    const problem = this.check(b, false);
    if (problem) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: problem }] } };
    if (b.active !== undefined) hook.active = Boolean(b.active);
    if (b.events !== undefined) hook.events = b.events as string[];
    if (b.config) {
      // GitHub replaces the config with the one given: a secret left out is removed.
      hook.config = { url: String(b.config.url ?? hook.config.url), content_type: String(b.config.content_type ?? 'form'), secret: String(b.config.secret ?? ''), insecure_ssl: String(b.config.insecure_ssl ?? '0') };
    }
    return { status: 200, body: this.view(hook) };
  }

  private check(b: { name?: unknown; events?: unknown; config?: Record<string, unknown> }, creating: boolean): string | null {
    if (creating && b.name !== undefined && b.name !== 'web') return 'name must be "web"';
    if (b.events !== undefined && (!Array.isArray(b.events) || b.events.some((e) => typeof e !== 'string'))) return 'events must be an array of strings';
    if (creating && !b.config) return 'config is required';
    if (b.config) {
      if (typeof b.config.url !== 'string' || !/^https?:\/\//.test(b.config.url)) return 'config.url must be an http(s) URL';
      if (b.config.content_type !== undefined && !CONTENT_TYPES.has(String(b.config.content_type))) return 'config.content_type must be json or form';
    }
    return null;
  }

  private async deliver(hook: StandInHook, event: string, payload: unknown): Promise<HookDelivery> {
    const deliveryId = randomUUID();
    const json = JSON.stringify(payload);
    const body = hook.config.content_type === 'json' ? json : `payload=${encodeURIComponent(json)}`;
    const headers: Record<string, string> = {
      'Content-Type': hook.config.content_type === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
      'User-Agent': 'GitHub-Hookshot/standin',
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': deliveryId,
      'X-GitHub-Hook-ID': String(hook.id),
      'X-GitHub-Hook-Installation-Target-Type': 'repository',
    };
    if (hook.config.secret) headers['X-Hub-Signature-256'] = await sign(hook.config.secret, body);
    const delivery: HookDelivery = { hookId: hook.id, event, deliveryId, status: 0, answer: '' };
    try {
      const response = await fetch(hook.config.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
      delivery.status = response.status;
      delivery.answer = await response.text();
    } catch (error) {
      delivery.answer = error instanceof Error ? error.message : String(error);
    }
    this.deliveries.push(delivery);
    return delivery;
  }

  private repository(hook: StandInHook) {
    return { id: 1, name: hook.repo, full_name: `${hook.owner}/${hook.repo}`, private: true, owner: { login: hook.owner, id: 1, type: 'User' } };
  }

  private view(hook: StandInHook) {
    return {
      type: 'Repository',
      id: hook.id,
      name: 'web',
      active: hook.active,
      events: hook.events,
      config: { url: hook.config.url, content_type: hook.config.content_type, insecure_ssl: hook.config.insecure_ssl, ...(hook.config.secret ? { secret: '********' } : {}) },
      url: `${this.baseUrl()}/repos/${hook.owner}/${hook.repo}/hooks/${hook.id}`,
      ping_url: `${this.baseUrl()}/repos/${hook.owner}/${hook.repo}/hooks/${hook.id}/pings`,
    };
  }
}
