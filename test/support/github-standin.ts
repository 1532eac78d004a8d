// A stand-in for the part of GitHub's REST API that Lanyard uses for GitHub Deployments, on
// 127.0.0.1: create a deployment, list deployments, create a deployment status. It checks every
// request as GitHub would (bearer token, the JSON media type, the API version header, a User-Agent,
// the body's fields), answers with GitHub's shapes, records everything in order, and misbehaves on
// demand (500s, a dropped connection) so the edge's retries can be tested.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GithubChecks, type GithubAppOptions } from './github-checks.ts';
import { GithubHooks } from './github-hooks.ts';
import { closeServer, listenOnLoopback } from './ports.ts';

export interface RecordedGithubRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The status the stand-in answered. */
  status: number;
  at: Date;
}

export interface StandInDeployment {
  id: number;
  owner: string;
  repo: string;
  ref: string;
  sha: string;
  environment: string;
  description: string | null;
  payload: unknown;
  required_contexts: unknown;
  auto_merge: unknown;
  task: string;
  statuses: StandInStatus[];
}

export interface StandInStatus {
  id: number;
  state: string;
  description: string;
  log_url: string | undefined;
  environment_url: string | undefined;
  auto_inactive: unknown;
  at: Date;
}

/** A pull request as the stand-in keeps it (issue 17: captures). */
export interface StandInPull {
  number: number;
  owner: string;
  repo: string;
  /** The branch name, as created (`head` without an `owner:` prefix). */
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
}

export interface GithubStandInOptions {
  /** The only token accepted. */
  token: string;
  /** A GitHub App whose JWTs and installation tokens are accepted for check runs (github-checks.ts). */
  app?: GithubAppOptions;
}

const STATES = new Set(['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success']);

export async function startGithubStandIn(options: GithubStandInOptions): Promise<GithubStandIn> {
  const standIn = new GithubStandIn(options);
  await standIn.listen();
  return standIn;
}

export class GithubStandIn {
  readonly requests: RecordedGithubRequest[] = [];
  readonly deployments: StandInDeployment[] = [];
  readonly pulls: StandInPull[] = [];
  /** Requests the stand-in refused as GitHub would (bad headers or body): a test expects none. */
  readonly refusals: string[] = [];
  private server: Server | undefined;
  private nextId = 1000;
  private failures: Array<{ status: number; match: RegExp }> = [];
  /** Repository webhooks (github-hooks.ts): the hooks API, and the pings and pushes delivered to them. */
  readonly hooks = new GithubHooks(() => this.url);
  /** Check runs, commit statuses and the App's token exchange (github-checks.ts). */
  readonly checks: GithubChecks;

  constructor(private readonly options: GithubStandInOptions) {
    this.checks = new GithubChecks(options.app ?? null, options.token);
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    return `http://127.0.0.1:${address?.port ?? 0}`;
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await listenOnLoopback(this.server);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  /** The next `count` requests whose `METHOD path` matches answer `status` (default: 500). */
  fail(count: number, status = 500, match: RegExp = /.*/): void {
    for (let i = 0; i < count; i += 1) this.failures.push({ status, match });
  }

  /** Answer normally again: forget the failures still pending. */
  heal(): void {
    this.failures = [];
  }

  /** The deployment made for a Lanyard deployment (found by the id in its payload). */
  deploymentFor(lanyardId: string): StandInDeployment | undefined {
    return this.deployments.find((d) => (d.payload as { lanyard?: { deploymentId?: string } } | null)?.lanyard?.deploymentId === lanyardId);
  }

  statesOf(lanyardId: string): string[] {
    return this.deploymentFor(lanyardId)?.statuses.map((s) => s.state) ?? [];
  }

  private refuse(res: ServerResponse, record: RecordedGithubRequest, status: number, message: string): void {
    this.refusals.push(`${record.method} ${record.path}: ${message}`);
    this.answer(res, record, status, { message, documentation_url: 'https://docs.github.com/rest' });
  }

  private answer(res: ServerResponse, record: RecordedGithubRequest, status: number, body: unknown): void {
    record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-GitHub-Media-Type': 'github.v3; format=json' });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body: unknown = null;
    const record: RecordedGithubRequest = { method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body: null, status: 0, at: new Date() };
    this.requests.push(record);
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return this.refuse(res, record, 400, 'Problems parsing JSON');
      }
    }
    record.body = body;

    const failure = this.failures.findIndex((f) => f.match.test(`${record.method} ${record.path}`));
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      record.status = f!.status;
      res.writeHead(f!.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'Server Error' }));
      return;
    }

    // Check runs, statuses and the App's tokens authenticate their own way (github-checks.ts).
    const checksAnswer = this.checks.handle({ method: record.method, pathname: url.pathname, authorization: req.headers.authorization, body });
    if (checksAnswer) return checksAnswer.status >= 400 ? this.refuse(res, record, checksAnswer.status, (checksAnswer.body as { message: string }).message) : this.answer(res, record, checksAnswer.status, checksAnswer.body);

    // What GitHub requires of every REST call.
    if (req.headers.authorization !== `Bearer ${this.options.token}`) return this.refuse(res, record, 401, 'Bad credentials');
    if (req.headers.accept !== 'application/vnd.github+json') return this.refuse(res, record, 415, `Accept must be application/vnd.github+json, got ${req.headers.accept}`);
    if (req.headers['x-github-api-version'] !== '2022-11-28') return this.refuse(res, record, 400, `X-GitHub-Api-Version must be 2022-11-28, got ${req.headers['x-github-api-version']}`);
    if (!req.headers['user-agent']) return this.refuse(res, record, 403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header');

    // Repository webhooks: their own module (github-hooks.ts).
    const hookAnswer = await this.hooks.handle({ method: record.method, pathname: url.pathname, body });
    if (hookAnswer) return hookAnswer.status >= 400 ? this.refuse(res, record, hookAnswer.status, (hookAnswer.body as { message: string }).message) : this.answer(res, record, hookAnswer.status, hookAnswer.body);

    const list = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(url.pathname);
    const statuses = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(url.pathname);
    if (list && req.method === 'POST') return this.createDeployment(res, record, list[1]!, list[2]!, body);
    if (list && req.method === 'GET') {
      const found = this.deployments.filter(
        (d) =>
          d.owner === list[1] &&
          d.repo === list[2] &&
          (!url.searchParams.get('sha') || d.sha === url.searchParams.get('sha')) &&
          (!url.searchParams.get('environment') || d.environment === url.searchParams.get('environment')),
      );
      return this.answer(res, record, 200, found.reverse().map((d) => this.view(d)));
    }
    if (statuses && req.method === 'POST') return this.createStatus(res, record, Number(statuses[3]), body);
    const pulls = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname);
    const pull = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/.exec(url.pathname);
    if (pulls && req.method === 'POST') return this.createPull(res, record, pulls[1]!, pulls[2]!, body);
    if (pulls && req.method === 'GET') {
      // `head` is `owner:branch` on GitHub; `state` defaults to open.
      const head = url.searchParams.get('head');
      const state = url.searchParams.get('state') ?? 'open';
      const found = this.pulls.filter(
        (p) => p.owner === pulls[1] && p.repo === pulls[2] && (state === 'all' || p.state === state) && (!head || head === `${p.owner}:${p.head}`),
      );
      return this.answer(res, record, 200, found.map((p) => this.pullView(p)));
    }
    if (pull && req.method === 'PATCH') return this.updatePull(res, record, pull[1]!, pull[2]!, Number(pull[3]), body);
    return this.refuse(res, record, 404, 'Not Found');
  }

  private createDeployment(res: ServerResponse, record: RecordedGithubRequest, owner: string, repo: string, body: unknown): void {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.ref !== 'string' || !b.ref) return this.refuse(res, record, 422, 'ref is required');
    if (b.payload !== undefined && (typeof b.payload !== 'object' || b.payload === null) && typeof b.payload !== 'string') return this.refuse(res, record, 422, 'payload must be an object or a string');
    if (b.required_contexts !== undefined && !Array.isArray(b.required_contexts)) return this.refuse(res, record, 422, 'required_contexts must be an array');
    if (typeof b.description === 'string' && b.description.length > 140) return this.refuse(res, record, 422, 'description is too long (maximum is 140 characters)');
    const deployment: StandInDeployment = {
      id: this.nextId++,
      owner,
      repo,
      ref: b.ref,
      sha: /^[0-9a-f]{40}$/.test(b.ref) ? b.ref : '0'.repeat(40),
      environment: typeof b.environment === 'string' ? b.environment : 'production',
      description: typeof b.description === 'string' ? b.description : null,
      payload: b.payload ?? {},
      required_contexts: b.required_contexts,
      auto_merge: b.auto_merge,
      task: typeof b.task === 'string' ? b.task : 'deploy',
      statuses: [],
    };
    this.deployments.push(deployment);
    this.answer(res, record, 201, this.view(deployment));
  }

  private createStatus(res: ServerResponse, record: RecordedGithubRequest, id: number, body: unknown): void {
    const deployment = this.deployments.find((d) => d.id === id);
    if (!deployment) return this.refuse(res, record, 404, 'Not Found');
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.state !== 'string' || !STATES.has(b.state)) return this.refuse(res, record, 422, `state is not included in the list: ${String(b.state)}`);
    if (typeof b.description === 'string' && b.description.length > 140) return this.refuse(res, record, 422, 'description is too long (maximum is 140 characters)');
    for (const key of ['log_url', 'environment_url'] as const) {
      if (b[key] !== undefined && (typeof b[key] !== 'string' || !/^https?:\/\//.test(b[key]))) return this.refuse(res, record, 422, `${key} must be a URL`);
    }
    const status: StandInStatus = {
      id: this.nextId++,
      state: b.state,
      description: typeof b.description === 'string' ? b.description : '',
      log_url: b.log_url as string | undefined,
      environment_url: b.environment_url as string | undefined,
      auto_inactive: b.auto_inactive,
      at: new Date(),
    };
    deployment.statuses.push(status);
    this.answer(res, record, 201, { id: status.id, state: status.state, description: status.description, log_url: status.log_url ?? '', environment_url: status.environment_url ?? '', deployment_url: `${this.url}/repos/${deployment.owner}/${deployment.repo}/deployments/${deployment.id}` });
  }

  /** The pull request open for this branch, if any. */
  openPullFor(branch: string): StandInPull | undefined {
    return this.pulls.find((p) => p.head === branch && p.state === 'open');
  }

  /** Closes a pull request as a merge on GitHub would (the test merges the branch in git itself). */
  closePull(number: number): void {
    const found = this.pulls.find((p) => p.number === number);
    if (found) found.state = 'closed';
  }

  private createPull(res: ServerResponse, record: RecordedGithubRequest, owner: string, repo: string, body: unknown): void {
    const b = (body ?? {}) as Record<string, unknown>;
    for (const key of ['title', 'head', 'base'] as const) if (typeof b[key] !== 'string' || !b[key]) return this.refuse(res, record, 422, `${key} is required`);
    if (b.body !== undefined && typeof b.body !== 'string') return this.refuse(res, record, 422, 'body must be a string');
    const head = String(b.head).replace(/^[^:]+:/, '');
    // GitHub: "A pull request already exists for owner:branch."
    if (this.pulls.some((p) => p.owner === owner && p.repo === repo && p.head === head && p.state === 'open')) {
      return this.refuse(res, record, 422, `Validation Failed: A pull request already exists for ${owner}:${head}.`);
    }
    const created: StandInPull = { number: this.pulls.length + 1, owner, repo, head, base: String(b.base), title: String(b.title), body: typeof b.body === 'string' ? b.body : '', state: 'open' };
    this.pulls.push(created);
    this.answer(res, record, 201, this.pullView(created));
  }

  private updatePull(res: ServerResponse, record: RecordedGithubRequest, owner: string, repo: string, number: number, body: unknown): void {
    const found = this.pulls.find((p) => p.owner === owner && p.repo === repo && p.number === number);
    if (!found) return this.refuse(res, record, 404, 'Not Found');
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.title === 'string') found.title = b.title;
    if (typeof b.body === 'string') found.body = b.body;
    this.answer(res, record, 200, this.pullView(found));
  }

  private pullView(p: StandInPull) {
    return {
      number: p.number,
      state: p.state,
      title: p.title,
      body: p.body,
      html_url: `${this.url}/${p.owner}/${p.repo}/pull/${p.number}`,
      head: { ref: p.head, label: `${p.owner}:${p.head}` },
      base: { ref: p.base },
    };
  }

  private view(d: StandInDeployment) {
    return {
      id: d.id,
      url: `${this.url}/repos/${d.owner}/${d.repo}/deployments/${d.id}`,
      sha: d.sha,
      ref: d.ref,
      task: d.task,
      payload: d.payload,
      environment: d.environment,
      description: d.description,
      statuses_url: `${this.url}/repos/${d.owner}/${d.repo}/deployments/${d.id}/statuses`,
    };
  }
}
