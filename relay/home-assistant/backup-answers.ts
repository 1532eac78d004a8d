// What the Supervisor and Home Assistant answer about backups, as zod shapes every answer is parsed
// with before the relay believes a word of it. A slug or job id from the other side is text that
// ends up in the deployment's summary, its page and a link: it must have exactly the shape the
// Supervisor makes (supervisor/backups/utils.py create_slug: 8 hex of a sha1; jobs: uuid4().hex),
// or the answer is refused. Extra fields are ignored (a newer Supervisor adds them); the ones the
// relay reads are checked to the character.
import { z } from 'zod';

/** A backup's slug as the Supervisor makes it: the first 8 hex digits of a sha1. */
export const SUPERVISOR_SLUG_PATTERN = /^[a-f0-9]{8}$/;
export const BackupSlug = z.string().regex(SUPERVISOR_SLUG_PATTERN, 'a backup slug as the Supervisor makes it: 8 lowercase hex digits');

/** A Supervisor job's id: uuid4().hex, 32 lowercase hex digits. */
export const JobUuid = z.string().regex(/^[a-f0-9]{32}$/, 'a Supervisor job id: 32 lowercase hex digits');

/** Short text the Supervisor or HA says (an error, a job name), cut to a length a page can show. */
const Said = z.string().max(2000);

/** Every Supervisor answer is wrapped: `{result: "ok", data}` or `{result: "error", message}` (supervisor/api/utils.py). */
export function supervisorEnvelope<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('result', [
    z.object({ result: z.literal('ok'), data }),
    z.object({ result: z.literal('error'), message: Said.nullable().optional() }),
  ]);
}

/** POST /backups/new/partial: `{job_id}` when it went to the background, `{job_id, slug}` when it finished first. */
export const BackupStarted = z.object({ job_id: JobUuid, slug: BackupSlug.optional() });

export const JobError = z.object({ type: Said.optional(), message: Said.nullable().optional(), stage: Said.nullable().optional() });

/** A job as GET /jobs/info lists it (SupervisorJob.as_dict, without parent_id, with child_jobs). */
export interface SupervisorJob {
  uuid: string;
  name: string | null;
  /** The backup's slug once the backup job named it (BackupManager._create_backup). */
  reference: string | null;
  /** null until the job started. */
  done: boolean | null;
  errors: z.infer<typeof JobError>[];
  child_jobs: SupervisorJob[];
}
export const SupervisorJobShape: z.ZodType<SupervisorJob> = z.lazy(() =>
  z.object({
    uuid: JobUuid,
    name: Said.nullable(),
    reference: Said.nullable(),
    done: z.boolean().nullable(),
    errors: z.array(JobError).max(100),
    child_jobs: z.array(SupervisorJobShape).max(500),
  }),
);

/** GET /jobs/info: the backup role may read it (`/.+/info`), not /jobs/<uuid> (manager role only). */
export const JobsInfo = z.object({ jobs: z.array(SupervisorJobShape).max(1000) });

/** GET /backups/<slug>/info (also through HA's /api/hassio/ proxy, which lets an admin read it). */
export const BackupInfo = z.object({ slug: BackupSlug, name: z.string().max(200) });

/** POST /api/services/hassio/backup_partial?return_response: the service answers the new backup's slug. */
export const BackupServiceAnswer = z.object({
  changed_states: z.array(z.unknown()),
  service_response: z.object({ backup: BackupSlug }),
});

/** GET /api/config: which integrations run (`hassio` only under a Supervisor; `backup` on every install with default_config). */
export const LoadedComponents = z.object({ components: z.array(z.string().max(200)).max(10_000) });

/** POST /api/services/<domain>/<service> without return_response: the states it changed. */
export const ChangedStatesOnly = z.array(z.unknown());
