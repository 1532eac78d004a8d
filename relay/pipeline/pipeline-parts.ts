// What every part of the deploy pipeline works with, built once by createPipeline and passed to
// each step explicitly: the relay's config, its git cache, Home Assistant, the host connection.
import type { LoadedConfig } from '../config.ts';
import type { HomeAssistantClient } from '../home-assistant/client.ts';
import type { Logger } from '../log.ts';
import { JOB_ID_SHAPE, pathInside } from '../safe-path.ts';
import type { TargetHost } from '../transport/target-host.ts';
import type { ActivationPlan } from './activate.ts';
import type { GitSource } from './git-source.ts';
import type { LiveHashCache } from './live-tree.ts';
import type { ManifestStore } from './manifest-store.ts';
import type { Manifest } from './manifest.ts';

export interface PipelineParts {
  loaded: LoadedConfig;
  config: LoadedConfig['config'];
  logger: Logger;
  git: GitSource;
  ha: HomeAssistantClient;
  manifests: ManifestStore;
  /** The config folder on the host. */
  root: string;
  /** Absolute links are read as Home Assistant reads them: `/config/x` is this folder's `x`. */
  configRoots: string[];
  backupDir: string;
  /** What the last plan hashed on the host: the next plan reads only the files written since. */
  liveHashes: LiveHashCache;
  /** The one connection to the host, proved alive before it is reused (host-connection.ts). */
  host: () => Promise<TargetHost>;
}

/** What a job notes in its journal as it goes, so a relay killed mid-deploy knows what to undo. */
export interface DeployContext {
  backupId?: string;
  activation?: ActivationPlan;
  activated?: boolean;
  /** Only in journals of relays before the manifest was kept apart (ManifestStore.writePending). */
  newManifest?: Manifest;
  /** The job's new manifest was kept with ManifestStore.writePending. */
  newManifestPending?: boolean;
  firstFailure?: string;
  /** The backup being taken, named before it exists, so a kill mid-backup can clear what it left. */
  pendingBackupId?: string;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Where a job's upload waits on the host before it is moved into place (and what a rollback removes with `rm -rf`). */
export function stagingDirOf(parts: PipelineParts, jobId: string): string {
  return pathInside(`${parts.root}/.lanyard/staging`, JOB_ID_SHAPE, jobId);
}
