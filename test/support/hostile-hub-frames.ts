// Generated frames a compromised edge could send a relay (fast-check): every hub→relay message type
// with every field either well-formed or hostile — ids shaped like paths, unicode, NUL, huge text,
// wrong types — plus frames that are no message at all. A few values stand for what only the run
// knows (a backup the relay reported, a job it acknowledged): `resolveFrame` fills them in.
import fc from 'fast-check';
import { BACKUP_ID_PATTERN, DEPLOYMENT_ID_PATTERN } from '../../shared/ids.ts';

/** Placeholders filled in when the frame is sent. */
export type Known = { $backup: number } | { $job: number };

export type FramePlan = { kind: 'message'; message: Record<string, unknown> } | { kind: 'text'; text: string } | { kind: 'bytes'; bytes: Uint8Array };

export interface HostileFrameOptions {
  /** Commits of the relay's repository: a job naming one may really deploy. */
  shas: readonly string[];
  /** The relay's own target (a job for it may run) and another well-formed one. */
  target: string;
}

/** Names that climb out of a folder, or try to, in every spelling we could think of. */
export const PATH_LIKE = [
  '../../../config',
  '../../../victim',
  '../../../backup',
  '../../victim',
  '../victim',
  '..',
  '.',
  '/',
  '/etc/passwd',
  '../../../config/secrets.yaml',
  'dep_../../../config',
  'dep_01m82e4vg06ns08fd0/../../../../victim',
  '..\\..\\..\\config',
  '....//....//config',
  '%2e%2e%2f%2e%2e%2fconfig',
  'lanyard-20261122T190500Z-../../../config',
  'lanyard-20261122T190500Z-x/../../../victim',
  '-rf',
  '--directory=..',
  '$(touch /tmp/lanyard-pwned)',
  '`id`',
  'dep_01m82e4vg06ns08fd0\u0000../../config',
  'dep_01m82e4vg06ns08fd0\n',
  'DEP_01M82E4VG06NS08FD0',
  'dep_01m82e4vg06ns08fdi',
  'dep_０１m82e4vg06ns08fd0',
  '\u202e0gifnoc/../../..',
];

/** Text a field should never hold: paths, control characters, any unicode, and now and then a lot of it. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PATH_LIKE) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `${s}\u0000${s}`) },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 120_000 }).map((n) => 'x'.repeat(n)) },
);

/** Any value of the wrong type, now and then, where a field belongs. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));

const validJobId = fc.stringMatching(DEPLOYMENT_ID_PATTERN);
const validBackupId = fc.stringMatching(BACKUP_ID_PATTERN);

/** A field that is well-formed with probability ~`good`/(`good`+2), else hostile text or the wrong type. */
function field<T>(valid: fc.Arbitrary<T>, good: number): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: good, arbitrary: valid }, { weight: 1, arbitrary: hostileText }, { weight: 1, arbitrary: wrongType });
}

function jobIdField(good: number): fc.Arbitrary<unknown> {
  return field(fc.oneof(validJobId, fc.nat().map((n): Known => ({ $job: n }))), good);
}

function jobMessage(options: HostileFrameOptions, good: number): fc.Arbitrary<Record<string, unknown>> {
  const sha = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...options.shas) }, { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{40}$/) });
  const backupId = fc.oneof(fc.constant(null), fc.nat().map((n): Known => ({ $backup: n })), validBackupId);
  const ref = fc.constantFrom('refs/heads/main', 'refs/tags/v1.0', 'refs/heads/feature/lights');
  const requestedBy = fc.oneof(fc.constantFrom('ada', 'otto', 'github', 'lanyard (late push linked the branch)'), fc.string({ maxLength: 256 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)));
  return fc
    .record(
      {
        type: fc.constant('job'),
        jobId: jobIdField(good),
        attempt: field(fc.integer({ min: 1, max: 1_000_000 }), good),
        kind: field(fc.constantFrom('deploy', 'rollback'), good),
        target: field(fc.oneof({ weight: 6, arbitrary: fc.constant(options.target) }, { weight: 1, arbitrary: fc.constant('cabin') }), good),
        sha: field(sha, good),
        ref: field(ref, good),
        backupId: field(backupId, good),
        driftPolicy: field(fc.constantFrom('stop', 'overwrite', 'report-only'), good),
        requestedBy: field(requestedBy, good),
        commitMessage: field(fc.string({ maxLength: 200 }), good),
      },
      { requiredKeys: ['type', 'jobId', 'attempt', 'kind', 'target', 'sha', 'ref', 'backupId', 'driftPolicy', 'requestedBy'] },
    )
    .chain((job) => fc.oneof({ weight: 8, arbitrary: fc.constant(job) }, { weight: 1, arbitrary: dropOneField(job) }, { weight: 1, arbitrary: fc.constant({ ...job, extra: '../../x', path: '/etc/passwd' }) }));
}

function dropOneField(message: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.constantFrom(...Object.keys(message).filter((k) => k !== 'type')).map((key) => {
    const copy = { ...message };
    delete copy[key];
    return copy;
  });
}

/** One frame from a compromised edge. */
export function hostileFrame(options: HostileFrameOptions): fc.Arbitrary<FramePlan> {
  const message = (arbitrary: fc.Arbitrary<Record<string, unknown>>) => arbitrary.map((m): FramePlan => ({ kind: 'message', message: m }));
  const duration = field(fc.integer({ min: 1, max: 86_400_000 }), 2);
  return fc.oneof(
    // A job nearly right, so that many of them are taken and run, and one built of hostile fields.
    { weight: 4, arbitrary: message(jobMessage(options, 30)) },
    { weight: 3, arbitrary: message(jobMessage(options, 2)) },
    { weight: 1, arbitrary: message(fc.record({ type: fc.constant('cancel'), jobId: jobIdField(3), reason: field(fc.constantFrom('superseded', 'attempt 2 is no longer current'), 3) })) },
    { weight: 1, arbitrary: message(fc.record({ type: fc.constant('recorded'), jobId: jobIdField(3) })) },
    {
      weight: 1,
      arbitrary: message(
        fc.record(
          { type: fc.constant('error'), code: field(fc.constantFrom('invalid_message', 'unknown_job', 'stale_attempt', 'busy', 'internal'), 3), message: field(fc.string({ maxLength: 100 }), 3), jobId: jobIdField(3) },
          { requiredKeys: ['type', 'code', 'message'] },
        ),
      ),
    },
    { weight: 1, arbitrary: message(fc.record({ type: fc.constant('welcome'), v: field(fc.constant(1), 3), target: field(fc.constantFrom(options.target, 'cabin'), 3), leaseMs: duration, ackTimeoutMs: duration })) },
    { weight: 1, arbitrary: message(fc.constant({ type: 'pong' })) },
    // Messages of the wrong direction, unknown types, and any JSON at all.
    { weight: 1, arbitrary: message(fc.record({ type: fc.oneof(fc.constantFrom('JOB', 'hello', 'ack', 'result', 'progress', 'backups', 'ping', '__proto__', 'constructor'), hostileText), jobId: jobIdField(1) })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value): FramePlan => ({ kind: 'text', text: JSON.stringify(value) })) },
    // Frames that are not JSON, or not text.
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', '{', '{"type":"job"', 'null', '"job"', '{"type":"job"}\u0000', '{"type":"job","jobId":"dep_01m82e4vg06ns08fd0","__proto__":{"target":"home","jobId":"../../../config"}}', `${'['.repeat(50_000)}${']'.repeat(50_000)}`))
        .map((text): FramePlan => ({ kind: 'text', text })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): FramePlan => ({ kind: 'bytes', bytes })) },
  );
}

/** What the run knows by now: the backups the relay reported and the jobs it acknowledged. */
export interface KnownValues {
  backups: readonly string[];
  jobs: readonly string[];
}

function resolve(value: unknown, known: KnownValues): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('$backup' in value) return known.backups.length ? known.backups[(value as { $backup: number }).$backup % known.backups.length] : 'lanyard-20261122T190500Z-01m82e4vg06ns08fd0';
    if ('$job' in value) return known.jobs.length ? known.jobs[(value as { $job: number }).$job % known.jobs.length] : 'dep_01m82e4vg06ns08fd0';
  }
  return value;
}

/** The frame as sent: placeholders filled in, a message as JSON. */
export function resolveFrame(plan: FramePlan, known: KnownValues): string | Uint8Array {
  if (plan.kind === 'text') return plan.text;
  if (plan.kind === 'bytes') return plan.bytes;
  const message: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(plan.message)) message[key] = resolve(value, known);
  return JSON.stringify(message);
}
