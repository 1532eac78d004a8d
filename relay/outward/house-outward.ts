// What the house itself shows about deployments: `sensor.lanyard_<target>` (`deploying` when a job
// starts, its outcome when it ends) and a persistent notification when a deploy fails or is rolled
// back, or a rollback job ran. Wraps the pipeline, so the outcome is published after verify or the
// rollback: Home Assistant is back by then (a state written before a restart is lost with it).
// Nothing here can fail or hold up a deployment for long: every call is bounded, and caught.
import { join } from 'node:path';
import { firstLine, shortSha } from '../../shared/commit.ts';
import type { DeploymentSummary } from '../../shared/deployment.ts';
import type { DriftReportMessage } from '../../shared/drift.ts';
import type { Freeze, TargetStateMessage } from '../../shared/freeze.ts';
import type { JobMessage } from '../../shared/protocol.ts';
import type { RelayConfig } from '../config.ts';
import type { HomeAssistantClient } from '../home-assistant/client.ts';
import type { JobExecutor } from '../job-runner.ts';
import type { JournalEntry } from '../journal.ts';
import type { Logger } from '../log.ts';
import type { JobOutcome, StepRunner } from '../step-runner.ts';
import { DeploymentSensor, type SensorState } from './deployment-sensor.ts';

export interface HouseOutwardOptions {
  /** A client with a short request timeout: a hung HA must not hold up the job's report for long. */
  ha: Pick<HomeAssistantClient, 'setState' | 'notify' | 'callService'>;
  config: RelayConfig;
  logger: Logger;
}

export interface HouseOutward {
  /** Runs a job, publishing `deploying` before and the outcome after. */
  around(job: JobMessage, startedAt: number, run: () => Promise<JobOutcome>): Promise<JobOutcome>;
  /** The relay is connected and idle: publish the last known state again (HA may have restarted). */
  idle(): Promise<void>;
  /** The drift watch looked: the sensor's drift attributes follow (published only when they changed). */
  drift(report: DriftReportMessage): Promise<void>;
  /** The edge's freeze (or none): the sensor's frozen attributes follow (published only when they changed). */
  targetState(message: TargetStateMessage): Promise<void>;
}

/** How many drifted paths the sensor names; `drift_count` counts them all. */
export const SENSOR_DRIFT_PATHS = 10;

/**
 * The sensor's drift attributes from a drift report: `drift_count`, `drift_paths` (the first
 * SENSOR_DRIFT_PATHS, in path order), `drift_since` (when the oldest of them was first seen, ISO).
 * Apart from `drift`, which stays what the last deploy stopped on or kept.
 */
export function driftAttributes(report: DriftReportMessage): Record<string, unknown> {
  const since = report.files.reduce<number | null>((oldest, f) => (oldest === null || f.since < oldest ? f.since : oldest), null);
  return {
    drift_count: report.total,
    drift_paths: report.files.slice(0, SENSOR_DRIFT_PATHS).map((f) => f.path),
    drift_since: iso(since),
  };
}

/**
 * The sensor's freeze attributes: `frozen`, and while it holds who froze it, why and until when
 * (ISO; null: until someone unfreezes it), so a dashboard can say "frozen until … by … because …".
 */
export function freezeAttributes(freeze: Freeze | null): Record<string, unknown> {
  return {
    frozen: freeze !== null,
    frozen_until: iso(freeze?.until ?? null),
    frozen_by: freeze?.by ?? null,
    frozen_reason: freeze?.reason ?? null,
  };
}

/** The notification id: a new notice for a target replaces the last one instead of piling up. */
export function noticeId(target: string): string {
  return `lanyard_${target.replace(/[^a-z0-9]+/g, '_')}`;
}

export function statusPageUrl(edgeUrl: string, target: string, deploymentId: string): string {
  const base = edgeUrl.replace(/^ws(s?):/, 'http$1:').replace(/\/+$/, '');
  return `${base}/targets/${encodeURIComponent(target)}?deployment=${encodeURIComponent(deploymentId)}`;
}

export function sensorStateOf(job: JobMessage, outcome: JobOutcome): SensorState {
  if (outcome.status === 'succeeded') return job.kind === 'rollback' ? 'rolled_back' : 'succeeded';
  return outcome.status;
}


/** The first line of the commit's message, when the edge sent it. */
function subjectOf(job: JobMessage): string {
  return firstLine(job.commitMessage ?? '').trim();
}

function describe(job: JobMessage, outcome: JobOutcome): string {
  const summary = outcome.summary;
  if (outcome.status === 'succeeded') {
    if (job.kind === 'rollback') return `Rolled back to ${shortSha(job.sha)}${job.backupId ? ` (backup ${job.backupId})` : ''}`;
    const files = summary.filesChanged?.length ?? 0;
    const deleted = summary.filesDeleted?.length ?? 0;
    const activation = summary.activation === 'restart' ? ', restarted' : summary.activation === 'reload' ? `, reloaded ${(summary.reloadedDomains ?? []).join(', ')}` : '';
    return `Deployed ${shortSha(job.sha)}: ${files} file${files === 1 ? '' : 's'} changed${deleted ? `, ${deleted} deleted` : ''}${activation}`;
  }
  if (outcome.status === 'waiting_for_window') return `Waiting for the restart window: ${outcome.reason ?? 'it needs a restart'}`;
  return `${outcome.status === 'rolled_back' ? 'Rolled back' : 'Failed'}: ${outcome.reason ?? 'a step failed'}`;
}

/**
 * Text shown as Markdown in Home Assistant taken literally: the commit subject and who asked come
 * from the edge, which may not put a link, an image or markup in front of the owner.
 */
export function literalMarkdown(text: string): string {
  // What opens a link, an image or markup: brackets (`[x](y)`, `![x](y)`), angle brackets (HTML and
  // `<https://…>`), and a bare address that a renderer would turn into a link by itself. Emphasis
  // and the like are left as they are: they cannot take the owner anywhere, and paths keep reading
  // as paths in the notification's text.
  return text.replace(/[\\[\]<>]/g, '\\$&').replace(/:\/\//g, '\\://').replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}\\.`);
}

/** Title and text of the persistent notification, or null when the outcome needs none. */
export function noticeFor(job: JobMessage, outcome: JobOutcome, url: string): { title: string; message: string } | null {
  const what = job.kind === 'rollback' ? `Rollback to ${shortSha(job.sha)}` : `Deploy of ${shortSha(job.sha)}`;
  const subject = literalMarkdown(subjectOf(job));
  // The reason is the relay's own sentence (quoting Home Assistant's answer or a path of the commit).
  const reason = outcome.reason ?? 'a step failed';
  const lines = [
    `**Target:** ${job.target}`,
    ...(subject ? [`**Commit:** ${shortSha(job.sha)} ${subject}`] : []),
    `**Deployment:** [${job.jobId}](${url})`,
    `**Asked by:** ${literalMarkdown(job.requestedBy)}`,
  ];
  switch (outcome.status) {
    case 'rolled_back':
      return {
        title: `Lanyard: ${what} rolled back`,
        message: [`The deploy failed and Lanyard restored the previous configuration.`, '', `**Reason:** ${reason}`, ...lines].join('\n'),
      };
    case 'failed':
      return {
        title: `Lanyard: ${what} failed`,
        message: [`**Reason:** ${reason}`, ...lines].join('\n'),
      };
    case 'waiting_for_window':
      // Nothing went wrong and nothing changed: the page says when it goes ahead.
      return null;
    case 'succeeded':
      return job.kind === 'rollback'
        ? { title: `Lanyard: rolled back to ${shortSha(job.sha)}`, message: [`The configuration was rolled back on request.`, ...lines].join('\n') }
        : null;
    default: {
      const unreachable: never = outcome.status;
      throw new Error(`unknown outcome ${String(unreachable)}`);
    }
  }
}

/**
 * ISO time, or null. The schemas take any safe integer, and one past a Date's range (year 275760)
 * made toISOString throw, so the freeze never reached the sensor: such an end is shown as none.
 */
function iso(ms: number | null): string | null {
  const date = ms === null ? null : new Date(ms);
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
}

export function houseOutward(options: HouseOutwardOptions): HouseOutward {
  const { ha, config, logger } = options;
  const target = config.edge.target;
  const sensor = config.homeAssistant.sensor
    ? new DeploymentSensor({ ha, target, stateFile: join(config.stateDir, 'outward', `sensor-${target}.json`), logger })
    : null;
  const notificationId = noticeId(target);
  // Whether the last notice is still up, so a later success can take it down.
  let noticeUp = false;

  function attributes(state: SensorState, job: JobMessage, startedAt: number, finishedAt: number | null, message: string, outcome: JobOutcome | null): Record<string, unknown> {
    const summary: Partial<DeploymentSummary> = outcome?.summary ?? {};
    return {
      ...sensor!.baseAttributes(state),
      deployment_id: job.jobId,
      kind: job.kind,
      sha: job.sha,
      short_sha: shortSha(job.sha),
      /** The commit's subject line, e.g. "Close the garage at night" (empty when the edge did not know it). */
      commit_message: subjectOf(job),
      message,
      reason: outcome?.reason ?? null,
      requested_by: job.requestedBy,
      started_at: iso(startedAt),
      finished_at: iso(finishedAt),
      duration: finishedAt === null ? null : Math.round((finishedAt - startedAt) / 100) / 10,
      drift: summary.drift ?? [],
      files_changed: summary.filesChanged?.length ?? 0,
      activation: summary.activation ?? null,
      backup_id: summary.backupId ?? null,
      status_url: statusPageUrl(config.edge.url, target, job.jobId),
    };
  }

  async function notice(job: JobMessage, outcome: JobOutcome): Promise<void> {
    if (!config.homeAssistant.notify) return;
    const url = statusPageUrl(config.edge.url, target, job.jobId);
    const text = noticeFor(job, outcome, url);
    try {
      if (text) {
        await ha.notify(text.title, text.message, notificationId);
        noticeUp = true;
      } else if (noticeUp) {
        // The trouble it told of is over: a later deploy succeeded.
        await ha.callService('persistent_notification', 'dismiss', { notification_id: notificationId });
        noticeUp = false;
      }
    } catch (error) {
      logger.warn(`could not show the Home Assistant notification for ${job.jobId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return {
    async around(job, startedAt, run) {
      if (sensor) {
        const verb = job.kind === 'rollback' ? 'Rolling back to' : 'Deploying';
        await sensor.publish({ state: 'deploying', attributes: attributes('deploying', job, startedAt, null, `${verb} ${shortSha(job.sha)}`, null) }).catch(() => undefined);
      }
      let outcome: JobOutcome;
      try {
        outcome = await run();
      } catch (error) {
        const failed: JobOutcome = { status: 'failed', reason: error instanceof Error ? error.message : String(error), summary: {} };
        await Promise.allSettled([sensor?.publish({ state: 'failed', attributes: attributes('failed', job, startedAt, Date.now(), describe(job, failed), failed) }), notice(job, failed)]);
        throw error;
      }
      const state = sensorStateOf(job, outcome);
      await Promise.allSettled([sensor?.publish({ state, attributes: attributes(state, job, startedAt, Date.now(), describe(job, outcome), outcome) }), notice(job, outcome)]);
      return outcome;
    },
    async idle() {
      await sensor?.republish().catch(() => undefined);
    },
    async drift(report) {
      await sensor?.setDrift(driftAttributes(report)).catch(() => undefined);
    },
    async targetState(message) {
      await sensor?.setFreeze(freezeAttributes(message.freeze)).catch(() => undefined);
    },
  };
}

/** The pipeline with the house's sensor and notifications around every job. */
export function withHouseOutward<P extends JobExecutor>(pipeline: P, outward: HouseOutward): P {
  return {
    ...pipeline,
    execute: (job: JobMessage, steps: StepRunner) => outward.around(job, Date.now(), () => pipeline.execute(job, steps)),
    recover: (entry: JournalEntry, steps: StepRunner) => outward.around(entry.job, entry.startedAt, () => pipeline.recover(entry, steps)),
    idle: () => outward.idle(),
    targetState: (message: TargetStateMessage) => outward.targetState(message),
    // The sensor follows each look, not awaited: a hung Home Assistant must not hold the host lock.
    ...(pipeline.lookForDrift
      ? {
          lookForDrift: async () => {
            const report = await pipeline.lookForDrift!();
            void outward.drift(report);
            return report;
          },
        }
      : {}),
  };
}
