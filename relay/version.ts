// The relay's version, reported in `hello` and the User-Agent.
import { CAPTURE_CAPABILITY } from '../shared/drift.ts';
import { BACKUP_INVENTORY_CAPABILITY, RELAY_CAPABILITIES as EDGE_KNOWN_CAPABILITIES } from '../shared/protocol.ts';

export const RELAY_VERSION = '0.1.0';
/**
 * `restart-window`: honours `job.mayRestart: false` (pipeline/deploy-steps.ts holds the restart);
 * `release-tags`: a `refs/tags/…` job's tag is fetched and checked to peel to its commit on an allowed branch (pipeline/git-tag.ts);
 * `pull-plans`: a `plan` of a pull request's head is run read-only and answered with `planned` (pull-plan/).
 */
export const RELAY_CAPABILITIES = ['deploy', 'rollback', 'journal', 'drift-guard', BACKUP_INVENTORY_CAPABILITY, EDGE_KNOWN_CAPABILITIES.restartWindow, EDGE_KNOWN_CAPABILITIES.releaseTags, EDGE_KNOWN_CAPABILITIES.pullPlans];

/**
 * What this relay says it can do: `capture` only when its config sets it up (a `capture:` section);
 * `alerts` only when it names notify services (`alerts.notify`), so the edge sends none otherwise.
 */
export function relayCapabilities(config: { capture?: unknown; alerts?: { notify: readonly string[] } }): string[] {
  const capabilities = config.capture ? [...RELAY_CAPABILITIES, CAPTURE_CAPABILITY] : [...RELAY_CAPABILITIES];
  if (config.alerts?.notify.length) capabilities.push(EDGE_KNOWN_CAPABILITIES.alerts);
  return capabilities;
}
