// A house (test/support/house.ts) whose repository and host are a real house
// (test/support/real-house-tree.ts), deployed by the real pipeline run in this process: jobs are
// handed to it as the daemon would, with no edge. For tests that need a tree of real shape on the
// host and what each step said.
import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newId } from '../../shared/ids.ts';
import type { JobMessage, ProgressMessage } from '../../shared/protocol.ts';
import { loadRelayConfig } from '../../relay/config.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { createPipeline, type Pipeline } from '../../relay/pipeline/deploy-pipeline.ts';
import { StepRunner, type JobOutcome } from '../../relay/step-runner.ts';
import { git, type House } from './house.ts';
import type { RealHouseChange, RealHouseTree } from './real-house-tree.ts';

const run = promisify(execFile);

export interface RealHouseRelay {
  /** Runs one job to its end; `said(step)` is what that step reported. */
  execute(kind: 'deploy' | 'rollback', sha: string, backupId?: string | null): Promise<{ outcome: JobOutcome; said: (step: string) => string }>;
  /** Commits a change of the real house to the house's repository; returns the sha. */
  commit(change: RealHouseChange): Promise<string>;
  close(): Promise<void>;
}

async function commitAll(work: string, message: string, executables: readonly string[]): Promise<string> {
  await git(work, 'add', '-A');
  // Said explicitly, in case the file system the tests run on keeps no modes.
  for (let i = 0; i < executables.length; i += 200) await git(work, 'update-index', '--chmod=+x', '--', ...executables.slice(i, i + 200));
  await git(work, 'commit', '--quiet', '-m', message);
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  return git(work, 'rev-parse', 'HEAD');
}

/**
 * Makes `house` hold `real`: its repository becomes the real house's (one commit, pushed), and the
 * host's config folder holds only what Home Assistant keeps there (its state, bytecode, add-on
 * output), owned by `hostUser` when given. Returns the pipeline to deploy it with, and the sha.
 */
export async function useRealHouse(house: House, real: RealHouseTree, hostUser?: string): Promise<RealHouseRelay & { initialSha: string }> {
  for (const name of await readdir(house.work)) if (name !== '.git') await rm(join(house.work, name), { recursive: true, force: true });
  await real.writeRepository(house.work);
  const initialSha = await commitAll(house.work, 'The whole configuration', real.executables.map((e) => e.path));
  for (const name of await readdir(house.configRoot)) await rm(join(house.configRoot, name), { recursive: true, force: true });
  await real.writeHostState(house.configRoot);
  if (hostUser) await run('chown', ['-R', `${hostUser}:`, house.configRoot]);

  const lines: string[] = [];
  const keep = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  const logger: Logger = { info: keep('info'), warn: keep('warn'), error: keep('error') };
  const pipeline: Pipeline = await createPipeline(await loadRelayConfig(house.relayConfigPath), logger);

  return {
    initialSha,
    async execute(kind, sha, backupId = null) {
      const job: JobMessage = { type: 'job', jobId: newId('dep'), attempt: 1, kind, target: 'home', sha, ref: 'refs/heads/main', backupId, driftPolicy: 'stop', requestedBy: 'test' };
      const journal = new Journal(join(house.stateDir, `journal-${job.jobId}`));
      await journal.open();
      const messages: ProgressMessage[] = [];
      const steps = new StepRunner(job, journal, (m) => void messages.push(m), logger, {}, Date.now());
      const outcome = await pipeline.execute(job, steps);
      return { outcome, said: (step) => messages.filter((m) => m.step === step && m.status !== 'started').map((m) => m.message).join('\n') };
    },
    async commit(change) {
      await real.writeChange(house.work, change);
      return commitAll(house.work, change.message, change.writes.filter((w) => w.kind === 'executable').map((w) => w.path));
    },
    close: () => pipeline.close(),
  };
}
