// Deployment targets: what the edge knows about each Home Assistant house it deploys to.
// They come from the TARGETS var (wrangler.toml) and are validated with zod; an invalid
// configuration answers every request with an error that names the field.
import { z } from 'zod';
import { DriftPolicy } from '../../shared/deployment.ts';
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
  const parsed = TargetList.safeParse(value);
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
