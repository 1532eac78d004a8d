// The GitHub stand-in's check runs, commit statuses and GitHub App authentication (issue 20: plans
// on pull requests), as GitHub has them: an App proves itself with an RS256 JWT (verified here with
// the App's public key: issuer, expiry at most ten minutes out), asks for the repository's
// installation, and exchanges the JWT for an installation token; only that token may create or
// update check runs — a personal access token is refused with GitHub's 403 — while commit statuses
// take the personal access token. Everything received is kept in order for the test to read.
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';

export interface StandInCheckRun {
  id: number;
  owner: string;
  repo: string;
  name: string;
  headSha: string;
  externalId: string | null;
  status: string;
  conclusion: string | null;
  title: string;
  summary: string;
  detailsUrl: string | null;
  /** Every state it went through: `status/conclusion`. */
  history: string[];
}

export interface StandInCommitStatus {
  owner: string;
  repo: string;
  sha: string;
  state: string;
  context: string;
  description: string;
  targetUrl: string | null;
}

export interface GithubAppOptions {
  appId: string;
  /** The App's public key (PEM). */
  publicKeyPem: string;
  installationId: number;
}

type Answer = { status: number; body: unknown };

const STATUSES = new Set(['queued', 'in_progress', 'completed']);
const CONCLUSIONS = new Set(['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out']);
const STATUS_STATES = new Set(['error', 'failure', 'pending', 'success']);

export class GithubChecks {
  readonly checkRuns: StandInCheckRun[] = [];
  readonly commitStatuses: StandInCommitStatus[] = [];
  /** Installation tokens handed out. */
  readonly issuedTokens = new Set<string>();
  private nextId = 5000;
  private readonly publicKey: KeyObject | null;

  constructor(private readonly app: GithubAppOptions | null, private readonly personalToken: string) {
    this.publicKey = app ? createPublicKey(app.publicKeyPem) : null;
  }

  /** The check runs on one commit, oldest first. */
  runsOn(sha: string): StandInCheckRun[] {
    return this.checkRuns.filter((r) => r.headSha === sha);
  }

  /** Answers the requests this module owns (null: not one of them); runs before the stand-in's own token check. */
  handle(request: { method: string; pathname: string; authorization: string | undefined; body: unknown }): Answer | null {
    const { method, pathname } = request;
    const bearer = request.authorization?.startsWith('Bearer ') ? request.authorization.slice(7) : '';
    const installation = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(pathname);
    const tokens = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(pathname);
    const runs = /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/.exec(pathname);
    const run = /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/.exec(pathname);
    const status = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(pathname);
    if (installation && method === 'GET') {
      const refused = this.refuseJwt(bearer);
      return refused ?? { status: 200, body: { id: this.app!.installationId, app_id: Number(this.app!.appId), target_type: 'Organization' } };
    }
    if (tokens && method === 'POST') {
      const refused = this.refuseJwt(bearer);
      if (refused) return refused;
      if (Number(tokens[1]) !== this.app!.installationId) return { status: 404, body: { message: 'Not Found' } };
      const token = `ghs_${randomBytes(18).toString('hex')}`;
      this.issuedTokens.add(token);
      return { status: 201, body: { token, expires_at: new Date(Date.now() + 60 * 60_000).toISOString(), permissions: { checks: 'write' } } };
    }
    if ((runs && method === 'POST') || (run && method === 'PATCH')) {
      if (bearer === this.personalToken) return { status: 403, body: { message: 'You must authenticate via a GitHub App.' } };
      if (!this.issuedTokens.has(bearer)) return { status: 401, body: { message: 'Bad credentials' } };
      return runs ? this.createRun(runs[1]!, runs[2]!, request.body) : this.updateRun(Number(run![3]), request.body);
    }
    if (status && method === 'POST') {
      if (bearer !== this.personalToken && !this.issuedTokens.has(bearer)) return { status: 401, body: { message: 'Bad credentials' } };
      const b = (request.body ?? {}) as Record<string, unknown>;
      if (typeof b.state !== 'string' || !STATUS_STATES.has(b.state)) return { status: 422, body: { message: `state is not included in the list: ${String(b.state)}` } };
      if (typeof b.description === 'string' && b.description.length > 140) return { status: 422, body: { message: 'description is too long (maximum is 140 characters)' } };
      this.commitStatuses.push({ owner: status[1]!, repo: status[2]!, sha: status[3]!, state: b.state, context: typeof b.context === 'string' ? b.context : 'default', description: String(b.description ?? ''), targetUrl: typeof b.target_url === 'string' ? b.target_url : null });
      return { status: 201, body: { id: this.nextId++, state: b.state, context: b.context } };
    }
    return null;
  }

  private refuseJwt(jwt: string): Answer | null {
    if (!this.app || !this.publicKey) return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
    const [header, payload, signature] = jwt.split('.');
    if (!header || !payload || !signature) return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    if (!verifier.verify(this.publicKey, Buffer.from(signature, 'base64url'))) return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown; exp?: number; iat?: number; alg?: string };
    const { alg } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string };
    const now = Date.now() / 1000;
    if (alg !== 'RS256') return { status: 401, body: { message: `'alg' must be RS256` } };
    if (String(claims.iss) !== this.app.appId) return { status: 401, body: { message: `'Issuer' claim ('iss') must be an Integer` } };
    if (typeof claims.exp !== 'number' || claims.exp < now || claims.exp - now > 600) return { status: 401, body: { message: `'Expiration time' claim ('exp') is too far in the future` } };
    if (typeof claims.iat !== 'number' || claims.iat > now + 60) return { status: 401, body: { message: `'Issued at' claim ('iat') must be an Integer representing a time in the past` } };
    return null;
  }

  private validate(b: Record<string, unknown>): string | null {
    if (b.status !== undefined && (typeof b.status !== 'string' || !STATUSES.has(b.status))) return `status is not included in the list: ${String(b.status)}`;
    if (b.conclusion !== undefined && (typeof b.conclusion !== 'string' || !CONCLUSIONS.has(b.conclusion))) return `conclusion is not included in the list: ${String(b.conclusion)}`;
    if (b.status === 'completed' && b.conclusion === undefined) return 'conclusion is required when status is completed';
    const output = b.output as { title?: unknown; summary?: unknown } | undefined;
    if (output !== undefined && (typeof output.title !== 'string' || typeof output.summary !== 'string')) return 'output needs a title and a summary';
    if (output && (output.summary as string).length > 65_535) return 'output.summary is too long (maximum is 65535 characters)';
    return null;
  }

  private createRun(owner: string, repo: string, body: unknown): Answer {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.name !== 'string' || !b.name) return { status: 422, body: { message: 'name is required' } };
    if (typeof b.head_sha !== 'string' || !/^[0-9a-f]{40}$/.test(b.head_sha)) return { status: 422, body: { message: 'head_sha is not a commit' } };
    const invalid = this.validate(b);
    if (invalid) return { status: 422, body: { message: invalid } };
    const output = (b.output ?? { title: '', summary: '' }) as { title: string; summary: string };
    const created: StandInCheckRun = {
      id: this.nextId++, owner, repo, name: b.name, headSha: b.head_sha, externalId: typeof b.external_id === 'string' ? b.external_id : null,
      status: typeof b.status === 'string' ? b.status : 'queued', conclusion: typeof b.conclusion === 'string' ? b.conclusion : null,
      title: output.title, summary: output.summary, detailsUrl: typeof b.details_url === 'string' ? b.details_url : null, history: [],
    };
    created.history.push(`${created.status}/${created.conclusion ?? ''}`);
    this.checkRuns.push(created);
    return { status: 201, body: { id: created.id, head_sha: created.headSha, name: created.name, status: created.status, conclusion: created.conclusion } };
  }

  private updateRun(id: number, body: unknown): Answer {
    const found = this.checkRuns.find((r) => r.id === id);
    if (!found) return { status: 404, body: { message: 'Not Found' } };
    const b = (body ?? {}) as Record<string, unknown>;
    const invalid = this.validate(b);
    if (invalid) return { status: 422, body: { message: invalid } };
    if (typeof b.status === 'string') found.status = b.status;
    if (typeof b.conclusion === 'string') found.conclusion = b.conclusion;
    const output = b.output as { title: string; summary: string } | undefined;
    if (output) Object.assign(found, { title: output.title, summary: output.summary });
    if (typeof b.details_url === 'string') found.detailsUrl = b.details_url;
    found.history.push(`${found.status}/${found.conclusion ?? ''}`);
    return { status: 200, body: { id: found.id, status: found.status, conclusion: found.conclusion } };
  }
}
