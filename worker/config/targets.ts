// Deployment targets: what the edge knows about each Home Assistant house it deploys to.
// They come from the TARGETS var (wrangler.toml) and are validated with zod; an invalid
// configuration answers every request with an error that names the field. TARGETS may be a TOML
// table keyed by target name (`[vars.TARGETS.home]`, what `npm run setup` writes), a JSON array,
// or either as a JSON string (the older form, still read).
import { z } from 'zod';
import { AlertEvent } from '../../shared/alert.ts';
import { DriftPolicy } from '../../shared/deployment.ts';
import { RestartWindow, TimeZone } from '../../shared/restart-window.ts';
import { isRefName } from '../../shared/git-ref.ts';
import { TARGET_NAME_PATTERN } from '../../shared/ids.ts';
import { describeZodError } from '../../shared/protocol.ts';
import { ApiError } from '../http/errors.ts';
import { quoteInput } from '../http/quote-input.ts';

export const TargetTrigger = z.discriminatedUnion('type', [
  z.object({ type: z.literal('push') }).strict().describe('Deploy every push to the branch.'),
  z
    .object({
      type: z.literal('workflow_run'),
      workflow: z.string().min(1).describe('Name of the GitHub Actions workflow that must succeed first.'),
    })
    .strict()
    .describe('Deploy only after the named workflow completed successfully for a push to the branch.'),
  z
    .object({
      type: z.literal('dispatch'),
      eventType: z.string().min(1).describe('The `event_type` of the repository_dispatch that deploys.'),
    })
    .strict()
    .describe('Deploy when a repository_dispatch event of this type arrives.'),
  z
    .object({
      type: z.literal('tag'),
      pattern: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[A-Za-z0-9._\/*?-]+$/, 'a glob of tag names: letters, digits, ".", "_", "-", "/", "*" and "?", e.g. v*')
        .describe('Glob of the tag names that deploy, e.g. `v*`.'),
    })
    .strict()
    .describe('Deploy pushed tags (annotated or lightweight) matching the glob, in semantic-version order: a tag lower than the one deployed is recorded as ignored. The relay deploys a tag only if its commit is on `git.branch` (or one of `git.tagBranches`).'),
]);
export type TargetTrigger = z.infer<typeof TargetTrigger>;

export const TargetConfig = z
  .object({
    name: z
      .string()
      .regex(TARGET_NAME_PATTERN, 'lowercase letters, digits and dashes, starting with a letter or digit')
      .describe('Short name of the target, used in URLs and entity ids (e.g. `home`).'),
    repo: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name of a GitHub repository')
      .describe('GitHub repository holding the configuration, as `owner/name`.'),
    // Held to git's own rules: the relay refuses a job whose ref git would not take.
    branch: z.string().refine(isRefName, 'a branch name git would take (no spaces, "..", "~", "^", ":", "?", "*", "[" or "\\")').default('main').describe('The only branch deployed to this target.'),
    environment: z.string().min(1).default('production').describe('GitHub environment name for deployments.'),
    trigger: TargetTrigger.default({ type: 'push' }).describe('What starts a deployment.'),
    driftPolicy: DriftPolicy.default('stop').describe(
      'What to do when files changed on the host since the last deploy: stop, overwrite (after backup; only where the relay sets `deploy.allowDriftOverwrite`, else it stops) or report-only.',
    ),
    relayTokenSecret: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/, 'the name of a Worker secret, e.g. RELAY_TOKEN_HOME')
      .describe('Name of the Worker secret holding this target\'s relay token (plain, or `sha256:<hex>` of it).'),
    publicReadOnly: z.boolean().default(false).describe('Let anyone read this target\'s status without a token.'),
    requiredContexts: z
      .array(z.string().min(1))
      .default([])
      .describe('Commit status contexts GitHub must see succeed before it accepts the GitHub deployment (`required_contexts`). Lanyard deploys either way; a refusal is noted.'),
    environmentUrl: z.url().optional().describe('Shown as the GitHub deployment\'s `environment_url`, e.g. your Home Assistant\'s public URL.'),
    githubTokenSecret: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/, 'the name of a Worker secret, e.g. GITHUB_TOKEN')
      .default('GITHUB_TOKEN')
      .describe('Name of the Worker secret holding the token for GitHub Deployments (Deployments: read and write). Unset secret: no GitHub deployments.'),
    capture: z
      .enum(['manual', 'auto'])
      .default('manual')
      .describe('Capture host edits as a pull request when asked (`manual`), or also whenever the relay reports newly drifted files (`auto`). Needs a relay with a `capture:` section and a token with Pull requests: write.'),
    restartWindows: z
      .array(RestartWindow)
      .max(24)
      .default([])
      .describe('When Home Assistant may be restarted, as `HH:MM-HH:MM` in `timeZone` (e.g. `["02:00-05:00"]`). A deploy that needs a restart is checked at once and then waits, `waiting_for_window`, until one opens (or an operator says "restart now"). Empty: restart at any time.'),
    timeZone: TimeZone.default('UTC').describe('The IANA time zone of `restartWindows`, e.g. `Europe/Amsterdam` (daylight saving time included).'),
    alerts: z
      .object({
        on: z.array(AlertEvent).default([...AlertEvent.options]).describe('What alerts: `failed`, `rolled_back`, `drift`, `frozen`, `unfrozen`.'),
        house: z
          .boolean()
          .default(true)
          .describe('Send alerts to the Home Assistant `notify.*` services the relay names (relay config `alerts.notify`); none named there, nothing is sent.'),
        email: z
          .object({
            from: z.email().describe('Sender, on a domain of your Cloudflare account with Email Routing.'),
            to: z.email().describe('Recipient: a verified destination address of Email Routing.'),
          })
          .strict()
          .optional()
          .describe('Also email alerts through the Worker\'s `ALERT_EMAIL` send_email binding.'),
      })
      .strict()
      .prefault({})
      .describe('Alerts on the phone and by email; each channel optional, retried by the outbox, never blocking a deploy.'),
    notifyOnSuccess: z
      .boolean()
      .optional()
      .describe('Send Slack and webhook notifications for successful deploys too (failures and rollbacks always notify). Default: the NOTIFY_ON_SUCCESS var.'),
  })
  .strict();
export type TargetConfig = z.infer<typeof TargetConfig>;

export const TargetList = z
  .array(TargetConfig)
  .superRefine((targets, ctx) => {
    const seen = new Set<string>();
    targets.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate target name "${t.name}"` });
      seen.add(t.name);
    });
  });

let cache: { raw: unknown; targets: TargetConfig[] } | null = null;

/**
 * A table keyed by target name (`{ home: { repo, … } }`) as the list the schema validates: each
 * entry takes its key as its name (an entry's own `name`, if given, must be the same).
 */
function tableAsList(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.entries(value).map(([name, entry]) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return entry;
    const own = (entry as { name?: unknown }).name;
    if (own !== undefined && own !== name) {
      throw new ApiError(500, 'bad_configuration', `TARGETS is invalid: the entry under ${quoteInput(name)} names itself ${quoteInput(String(own))}; leave out \`name\` or make it the same`);
    }
    return { ...entry, name };
  });
}

/** Parses TARGETS once per isolate (the value only changes with a new deployment of the Worker). */
export function loadTargets(raw: unknown): TargetConfig[] {
  if (cache && cache.raw === raw) return cache.targets;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ApiError(500, 'bad_configuration', 'TARGETS is not valid JSON.');
    }
  }
  if (value === undefined) throw new ApiError(500, 'bad_configuration', 'TARGETS is not set: configure at least one target.');
  const parsed = TargetList.safeParse(tableAsList(value));
  if (!parsed.success) {
    throw new ApiError(500, 'bad_configuration', `TARGETS is invalid: ${describeZodError(parsed.error).replace(/^(\d+)/, '[$1]')}`);
  }
  cache = { raw, targets: parsed.data };
  return parsed.data;
}

export function findTarget(raw: unknown, name: string): TargetConfig {
  const target = loadTargets(raw).find((t) => t.name === name);
  if (!target) throw new ApiError(404, 'unknown_target', `No target named ${quoteInput(name)} is configured.`);
  return target;
}
