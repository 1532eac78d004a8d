// The Supervisor behind the Home Assistant stand-in, for tests of Home Assistant's own backups: its
// API as an add-on reaches it (bearer SUPERVISOR_TOKEN, the add-on's `backup` role enforced as
// supervisor/api/middleware/security.py does: /backups* and /.+/info only), a partial backup that
// runs as a background job and finishes after a delay (`/jobs/info`, its `reference` the slug), the
// `/backups` listing, HA Core's `/api/hassio/` proxy with its admin allow-list
// (homeassistant/components/hassio/http.py PATHS_ADMIN), and HA's services `hassio.backup_partial`
// (waits, answers `{backup: slug}` when asked) and `backup.create` (installs without a Supervisor).
// It misbehaves on demand: refuses, fails the job, never finishes, answers a slug of the wrong shape.
import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isRecord, sendJson, sendText } from './home-assistant-http.ts';

export interface RecordedBackupRequest {
  /** `supervisor`: POST /backups/new/partial; or the HA service that asked for it. */
  via: 'supervisor' | 'hassio.backup_partial' | 'backup.create';
  name: string | undefined;
  homeassistant: boolean | undefined;
  folders: string[] | undefined;
  background: boolean | undefined;
  at: Date;
}

export interface StandInBackup {
  slug: string;
  name: string;
  date: string;
  type: 'partial' | 'full';
  content: { homeassistant: boolean; addons: string[]; folders: string[] };
}

interface Job {
  uuid: string;
  name: string;
  reference: string | null;
  done: boolean | null;
  errors: Array<{ type: string; message: string; stage: string | null }>;
  finished: Promise<void>;
}

type Misbehaviour = { kind: 'refuse'; message: string } | { kind: 'fail_job'; message: string } | { kind: 'never_finish' } | { kind: 'hostile_slug'; slug: string };

const ROLE_BACKUP = /^(?:|\/.+\/info|\/backups.*)$/;
const PATHS_ADMIN = /^(?:|backups\/[a-f0-9]{8}(\/info|\/download|\/restore\/full|\/restore\/partial)?|backups\/new\/upload|(?:audio|cli|core|dns|host|multicast|observer|supervisor)\/logs|addons\/[^/]+\/(changelog|documentation|logs))$/;

export class SupervisorStandIn {
  /** Every backup asked for, by whichever way, in order. */
  readonly backupRequests: RecordedBackupRequest[] = [];
  readonly backups: StandInBackup[] = [];
  /** Paths the add-on's token asked for and the `backup` role refused (403). */
  readonly refusedForRole: string[] = [];
  /** False: a Core or Container install, no Supervisor (HA has `backup`, not `hassio`). */
  present = true;
  /** How long a backup takes. */
  backupMs = 300;
  private misbehaviour: Misbehaviour | undefined;
  private readonly jobs = new Map<string, Job>();
  private readonly waiting = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly token: string) {}

  /** The integrations /api/config adds for this install. */
  get components(): string[] {
    return this.present ? ['backup', 'hassio'] : ['backup'];
  }

  // ---- misbehaviour ----
  refuse(message = 'A backup/restore is already in progress'): void {
    this.misbehaviour = { kind: 'refuse', message };
  }
  failJob(message = "Can't write backup tarfile: [Errno 28] No space left on device"): void {
    this.misbehaviour = { kind: 'fail_job', message };
  }
  neverFinish(): void {
    this.misbehaviour = { kind: 'never_finish' };
  }
  answerSlug(slug: string): void {
    this.misbehaviour = { kind: 'hostile_slug', slug };
  }
  reset(): void {
    this.misbehaviour = undefined;
    for (const res of this.waiting) res.destroy();
    this.waiting.clear();
  }
  close(): void {
    this.reset();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // ---- HTTP: the Supervisor's own API ----

  /** Whether the path is the Supervisor's (rather than HA's). */
  owns(path: string): boolean {
    return this.present && (path.startsWith('/backups') || path.startsWith('/jobs/'));
  }

  handleSupervisor(method: string, path: string, authorization: string | undefined, body: string, res: ServerResponse): void {
    if (authorization !== `Bearer ${this.token}`) return sendText(res, 401, '401: Unauthorized');
    if (!ROLE_BACKUP.test(path)) {
      this.refusedForRole.push(path);
      return sendText(res, 403, '403: Forbidden');
    }
    this.route(method, path, body, res);
  }

  /** HA Core's /api/hassio/<path>, the caller already an authenticated admin. */
  handleCoreProxy(method: string, path: string, body: string, res: ServerResponse): void {
    if (!this.present) return sendText(res, 404, '404: Not Found');
    if (!PATHS_ADMIN.test(path)) return sendText(res, 401, '401: Unauthorized');
    this.route(method, `/${path}`, body, res);
  }

  private route(method: string, path: string, body: string, res: ServerResponse): void {
    if (method === 'POST' && path === '/backups/new/partial') return this.newPartial(body, res);
    if (method === 'GET' && path === '/backups') return ok(res, { backups: this.backups });
    if (method === 'GET' && path === '/jobs/info') return ok(res, { ignore_conditions: [], jobs: [...this.jobs.values()].reverse().map(asDict) });
    const info = /^\/backups\/([^/]+)\/info$/.exec(path);
    if (method === 'GET' && info) {
      const found = this.backups.find((b) => b.slug === info[1]);
      return found ? ok(res, { ...found, size: 0.1, compressed: true, protected: false, homeassistant: '2026.11.1', addons: [], repositories: [], folders: [] }) : error(res, 404, 'Backup does not exist');
    }
    error(res, 404, 'Not found');
  }

  private newPartial(body: string, res: ServerResponse): void {
    const data = parse(body);
    if (!data) return error(res, 400, 'Invalid JSON');
    this.record('supervisor', data);
    if (this.misbehaviour?.kind === 'refuse') return error(res, 400, this.misbehaviour.message);
    const job = this.startJob(typeof data.name === 'string' ? data.name : undefined);
    if (data.background === true) return ok(res, { job_id: job.uuid });
    void job.finished.then(() => (job.errors.length ? error(res, 400, `An error occurred while making backup, check job '${job.uuid}'`) : ok(res, { job_id: job.uuid, slug: job.reference })));
  }

  // ---- HA's services ----

  /** `hassio.backup_partial` and `backup.create`; false for any other service. */
  callService(domain: string, service: string, data: Record<string, unknown>, wantsResponse: boolean, res: ServerResponse): boolean {
    if (domain === 'hassio' && service === 'backup_partial' && this.present) {
      this.record('hassio.backup_partial', data);
      if (this.misbehaviour?.kind === 'refuse') return failService(res, `Failed to create partial backup ${String(data.name)}: ${this.misbehaviour.message}`), true;
      const job = this.startJob(typeof data.name === 'string' ? data.name : undefined);
      this.answerWhenDone(job, res, () => {
        if (job.errors.length) return failService(res, `Failed to create partial backup ${String(data.name)}: ${job.errors[0]!.message}`);
        if (wantsResponse) sendJson(res, 200, { changed_states: [], service_response: { backup: job.reference } });
        else sendJson(res, 200, []);
      });
      return true;
    }
    if (domain === 'backup' && service === 'create' && !this.present) {
      this.record('backup.create', data);
      if (this.misbehaviour?.kind === 'refuse') return failService(res, this.misbehaviour.message), true;
      const job = this.startJob(undefined);
      this.answerWhenDone(job, res, () => (job.errors.length ? failService(res, job.errors[0]!.message) : sendJson(res, 200, [])));
      return true;
    }
    return false;
  }

  private answerWhenDone(job: Job, res: ServerResponse, answer: () => void): void {
    this.waiting.add(res);
    res.once('close', () => this.waiting.delete(res));
    void job.finished.then(() => {
      this.waiting.delete(res);
      answer();
    });
  }

  // ---- the job ----

  private startJob(name: string | undefined): Job {
    const misbehaviour = this.misbehaviour;
    let finish!: () => void;
    const job: Job = { uuid: randomUUID().replaceAll('-', ''), name: 'backup_manager_partial_backup', reference: null, done: false, errors: [], finished: new Promise((r) => (finish = r)) };
    this.jobs.set(job.uuid, job);
    if (misbehaviour?.kind === 'never_finish') return job;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const date = new Date().toISOString();
      const backupName = name ?? date;
      if (misbehaviour?.kind === 'fail_job') {
        job.errors.push({ type: 'BackupError', message: misbehaviour.message, stage: 'home_assistant' });
      } else {
        const slug = createHash('sha1').update(`${date}-${backupName}`).digest('hex').slice(0, 8);
        this.backups.push({ slug, name: backupName, date, type: 'partial', content: { homeassistant: true, addons: [], folders: [] } });
        job.reference = misbehaviour?.kind === 'hostile_slug' ? misbehaviour.slug : slug;
      }
      job.done = true;
      finish();
    }, this.backupMs);
    this.timers.add(timer);
    return job;
  }

  private record(via: RecordedBackupRequest['via'], data: Record<string, unknown>): void {
    this.backupRequests.push({
      via,
      name: typeof data.name === 'string' ? data.name : undefined,
      homeassistant: typeof data.homeassistant === 'boolean' ? data.homeassistant : undefined,
      folders: Array.isArray(data.folders) ? data.folders.map(String) : undefined,
      background: typeof data.background === 'boolean' ? data.background : undefined,
      at: new Date(),
    });
  }
}

function asDict(job: Job): Record<string, unknown> {
  return { name: job.name, reference: job.reference, uuid: job.uuid, progress: job.done ? 100 : 0, stage: null, done: job.done, errors: job.errors, created: new Date().toISOString(), extra: null, child_jobs: [] };
}

function parse(body: string): Record<string, unknown> | null {
  try {
    const data: unknown = body ? JSON.parse(body) : {};
    return isRecord(data) ? data : null;
  } catch {
    return null;
  }
}

function ok(res: ServerResponse, data: unknown): void {
  sendJson(res, 200, { result: 'ok', data });
}

function error(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { result: 'error', message });
}

/** A HomeAssistantError raised by a service: HA's REST API answers 500. */
function failService(res: ServerResponse, _message: string): void {
  sendText(res, 500, '500 Internal Server Error\n\nServer got itself in trouble');
}
