// The files of a commit the pipeline reads for itself rather than deploys: its lanyard.yaml, and
// configuration.yaml before and after, which decide how Home Assistant takes the change.
import type { TargetHost } from '../transport/target-host.ts';
import { StepFailure } from '../step-runner.ts';
import { readHostFile } from './host-files.ts';
import { DEFAULT_LANYARD_FILE, parseLanyardFile, type LanyardFile } from './lanyard-file.ts';
import type { PipelineParts } from './pipeline-parts.ts';
import type { Plan } from './plan.ts';

/** The commit's lanyard.yaml, or the defaults; a broken one fails the job before anything is written. */
export async function readLanyardFile({ git }: PipelineParts, sha: string, subfolder: string): Promise<LanyardFile> {
  const text = await git.readCommitFile(sha, subfolder ? `${subfolder}/lanyard.yaml` : 'lanyard.yaml');
  if (!text) return DEFAULT_LANYARD_FILE;
  const parsed = parseLanyardFile(text.toString('utf8'));
  if (!parsed.ok) throw new StepFailure('plan', 'bad_lanyard_file', parsed.error.message);
  return parsed.value;
}

/** Old and new configuration.yaml, so a change to reloadable sections only needs no restart. */
export async function configurationTexts({ config, git, root }: PipelineParts, sha: string, plan: Plan, target: TargetHost) {
  if (!plan.toWrite.some((f) => f.path === 'configuration.yaml')) return {};
  const subfolder = config.git.subfolder;
  const after = await git.readCommitFile(sha, subfolder ? `${subfolder}/configuration.yaml` : 'configuration.yaml');
  const before = await readHostFile(target, `${root}/configuration.yaml`);
  return { configurationYaml: { before: before?.toString('utf8') ?? null, after: after?.toString('utf8') ?? null } };
}
