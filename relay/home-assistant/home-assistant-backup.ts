// Asks Home Assistant for a backup of its own, one its Backups page can restore, and waits for it.
// Three ways in, chosen by what the relay has (docs/living-with-it.md, "Home Assistant backups"):
//
//   - In the add-on (SUPERVISOR_TOKEN set): the Supervisor's API itself, http://supervisor.
//     POST /backups/new/partial {name, homeassistant: true, background: true} answers a job id;
//     GET /jobs/info is polled until that job is done, its `reference` the new backup's slug;
//     GET /backups/<slug>/info confirms it. The `backup` role reaches /backups* and /.+/info only
//     (not /jobs/<uuid>, which needs `manager`): exactly what this needs.
//   - With a long-lived token, on HA OS or Supervised (`hassio` loaded): Home Assistant's service
//     `hassio.backup_partial` with `?return_response`, which waits for the backup and answers its
//     slug; then GET /api/hassio/backups/<slug>/info. HA's /api/hassio/ proxy does NOT let an admin
//     token start a backup or read a job (PATHS_ADMIN in homeassistant/components/hassio/http.py:
//     only backups/<slug>/info|download|restore, backups/new/upload and logs), so the service is the
//     only way a token from outside can ask for one.
//   - With a long-lived token, no Supervisor (Core, Container): the `backup.create` service, which
//     makes a local backup and waits for it but does not say which one it made: no slug to record.
import { BackupInfo, BackupServiceAnswer, BackupStarted, ChangedStatesOnly, JobsInfo, LoadedComponents, supervisorEnvelope, type SupervisorJob } from './backup-answers.ts';
import { normalizeBaseUrl } from './endpoint.ts';
import { HomeAssistantError } from './errors.ts';
import { requestHomeAssistant, type HomeAssistantConnection } from './request.ts';
import { oneLine, requestSupervisor, type SupervisorConnection } from './supervisor-request.ts';

export const SUPERVISOR_URL = 'http://supervisor';

export type HomeAssistantBackupRoute =
  | { kind: 'supervisor'; supervisor: SupervisorConnection }
  | { kind: 'core'; core: HomeAssistantConnection };

export type HomeAssistantBackupTaken =
  | { slug: string; name: string; how: string }
  /** `backup.create` made one but does not say which. */
  | { slug: null; name: null; how: string };

export interface BackupRequest {
  name: string;
  timeoutMs: number;
  /** Called now and then during the wait (the edge's lease wants a sign of life). */
  onWaiting?: (message: string) => void;
  /** How long to wait between looks at the job at first; it doubles up to 5 s. Default 250 ms. */
  firstPollMs?: number;
}

/**
 * The way in: the Supervisor's API when the relay runs as an add-on (SUPERVISOR_TOKEN), at
 * http://supervisor, or at the URL before `/core` when homeAssistant.url is the Supervisor's proxy
 * (`http://supervisor/core`); otherwise Home Assistant's API with the relay's token.
 */
export function homeAssistantBackupRoute(homeAssistant: { url: string; token: string }, env: Readonly<Record<string, string | undefined>>): HomeAssistantBackupRoute {
  const core = { baseUrl: normalizeBaseUrl(homeAssistant.url), token: homeAssistant.token, requestTimeoutMs: 30_000 };
  const supervisorToken = env.SUPERVISOR_TOKEN;
  if (!supervisorToken) return { kind: 'core', core };
  const baseUrl = core.baseUrl.endsWith('/core') ? core.baseUrl.slice(0, -'/core'.length) : SUPERVISOR_URL;
  return { kind: 'supervisor', supervisor: { baseUrl, token: supervisorToken } };
}

export async function takeHomeAssistantBackup(route: HomeAssistantBackupRoute, request: BackupRequest): Promise<HomeAssistantBackupTaken> {
  if (route.kind === 'supervisor') return viaSupervisor(route.supervisor, request);
  return viaCore(route.core, request);
}

async function viaSupervisor(supervisor: SupervisorConnection, request: BackupRequest): Promise<HomeAssistantBackupTaken> {
  const deadline = Date.now() + request.timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  const started = await requestSupervisor(supervisor, 'POST', '/backups/new/partial', BackupStarted, {
    body: { name: request.name, homeassistant: true, background: true },
    timeoutMs: Math.min(left(), 60_000),
  });
  let slug = started.slug;
  let pause = request.firstPollMs ?? 250;
  while (!slug) {
    const { jobs } = await requestSupervisor(supervisor, 'GET', '/jobs/info', JobsInfo, { timeoutMs: Math.min(left(), 30_000) });
    const job = findJob(jobs, started.job_id);
    if (!job) throw new HomeAssistantError('bad_response', `The Supervisor no longer lists the backup's job ${started.job_id}; see its log (Settings → System → Logs → Supervisor).`);
    if (job.done) {
      const said = job.errors.map((e) => oneLine(e.message ?? e.type ?? '')).filter(Boolean).join('; ');
      if (job.errors.length) throw new HomeAssistantError('bad_response', `The Supervisor could not make the backup: ${said || 'an error without a message'}.`);
      const reference = BackupInfo.shape.slug.safeParse(job.reference);
      if (!reference.success) throw new HomeAssistantError('bad_response', 'The Supervisor finished the backup job without naming a backup slug of the shape it makes (8 hex digits).');
      slug = reference.data;
      break;
    }
    if (Date.now() + pause > deadline) throw unfinished(request.timeoutMs, 'the Supervisor');
    request.onWaiting?.(`Home Assistant backup: job ${started.job_id} ${job.done === null ? 'queued' : 'running'}`);
    await sleep(pause);
    pause = Math.min(pause * 2, 5_000);
  }
  const info = await requestSupervisor(supervisor, 'GET', `/backups/${slug}/info`, BackupInfo, { timeoutMs: Math.min(left(), 30_000) });
  return confirmed(info, request.name, 'the Supervisor');
}

async function viaCore(core: HomeAssistantConnection, request: BackupRequest): Promise<HomeAssistantBackupTaken> {
  const { components } = await requestHomeAssistant(core, 'GET', '/config', LoadedComponents);
  const timing = { timeoutMs: request.timeoutMs, timeoutSetting: 'homeAssistant.backup.timeoutSeconds' };
  // The service waits for the backup; the wait itself is a sign of life worth sending.
  const ticking = request.onWaiting ? setInterval(() => request.onWaiting?.('Home Assistant backup: still running'), 10_000) : null;
  try {
    if (components.includes('hassio')) {
      const answer = await requestHomeAssistant(core, 'POST', '/services/hassio/backup_partial?return_response', BackupServiceAnswer, {
        ...timing,
        body: { name: request.name, homeassistant: true },
      });
      const slug = answer.service_response.backup;
      // The proxy lets an admin read one backup's info: proof the backup is there, under our name.
      const info = await requestHomeAssistant(core, 'GET', `/hassio/backups/${slug}/info`, supervisorInfoEnvelope, {});
      if (info.result !== 'ok') throw new HomeAssistantError('bad_response', `Home Assistant made backup ${slug} but the Supervisor does not know it: ${oneLine(info.message ?? '')}`);
      return confirmed(info.data, request.name, 'hassio.backup_partial');
    }
    if (components.includes('backup')) {
      await requestHomeAssistant(core, 'POST', '/services/backup/create', ChangedStatesOnly, { ...timing, body: {} });
      return { slug: null, name: null, how: 'backup.create (Home Assistant does not say which backup it made; see its Backups page)' };
    }
  } catch (error) {
    if (error instanceof HomeAssistantError && error.code === 'timeout') throw unfinished(request.timeoutMs, 'Home Assistant');
    throw error;
  } finally {
    if (ticking) clearInterval(ticking);
  }
  throw new HomeAssistantError(
    'not_configured',
    'Home Assistant has neither a Supervisor (`hassio`) nor its `backup` integration loaded, so it cannot make a backup of its own. Add `backup:` (or `default_config:`) to its configuration, or set homeAssistant.backup.enabled to false.',
  );
}

const supervisorInfoEnvelope = supervisorEnvelope(BackupInfo);

function confirmed(info: { slug: string; name: string }, name: string, how: string): HomeAssistantBackupTaken {
  if (info.name !== name) throw new HomeAssistantError('bad_response', `Backup ${info.slug} is named "${oneLine(info.name)}", not "${name}" as asked.`);
  return { slug: info.slug, name: info.name, how };
}

function findJob(jobs: SupervisorJob[], uuid: string): SupervisorJob | undefined {
  for (const job of jobs) {
    if (job.uuid === uuid) return job;
    const inner = findJob(job.child_jobs, uuid);
    if (inner) return inner;
  }
  return undefined;
}

function unfinished(timeoutMs: number, who: string): HomeAssistantError {
  return new HomeAssistantError(
    'timeout',
    `${who} did not finish the backup within ${Math.round(timeoutMs / 1000)} s; it may still finish on its own (see Home Assistant's Backups page). Raise homeAssistant.backup.timeoutSeconds if backups are just slow here.`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
