// `relay run`: wires the configuration, the journal, the pipeline and the edge connection
// together, recovers an interrupted job first, then serves jobs until stopped.
import { join } from 'node:path';
import { EdgeConnection } from './channel/edge-connection.ts';
import type { LoadedConfig } from './config.ts';
import { checkHomeAssistantAtStart, type HomeAssistantCheck } from './home-assistant/start-check.ts';
import { HostLock } from './host-lock.ts';
import { JobRunner, type JobExecutor } from './job-runner.ts';
import { Journal } from './journal.ts';
import type { Logger } from './log.ts';
import { RELAY_VERSION, relayCapabilities } from './version.ts';
import { DriftWatch } from './watch/drift-watch.ts';

export interface RunningRelay {
  runner: JobRunner;
  connection: EdgeConnection;
  /** Null when `watch.intervalSeconds` is 0 or the executor cannot look. */
  watch: DriftWatch | null;
  stop(): Promise<void>;
}

export async function startRelay(loaded: LoadedConfig, executor: JobExecutor, logger: Logger): Promise<RunningRelay> {
  const { config, secrets } = loaded;
  const journal = new Journal(join(config.stateDir, 'journal'));
  await journal.open();
  let connection: EdgeConnection | null = null;
  // Said in hello for the status page's first-run checklist; never holds up the relay for long.
  let homeAssistant: HomeAssistantCheck | null = null;
  const checked = checkHomeAssistantAtStart(loaded).then((result) => (homeAssistant = result));
  // One job or one look of the drift watch at a time on the host.
  const hostLock = new HostLock();
  const look = executor.lookForDrift?.bind(executor);
  const watch =
    look && config.watch.intervalSeconds > 0
      ? new DriftWatch({
          look,
          lock: hostLock,
          // Only once welcomed: before that the edge would drop it; the welcome sends the latest.
          send: (report) => connection?.current === 'ready' && connection.send(report),
          intervalMs: config.watch.intervalSeconds * 1000,
          logger,
        })
      : null;
  const runner = new JobRunner(journal, executor, { send: (m) => connection?.send(m) ?? false }, logger, config.edge.target, {
    hostLock,
    afterJob: () => watch?.afterJob(),
  });
  connection = new EdgeConnection({
    edgeUrl: config.edge.url,
    target: config.edge.target,
    token: secrets.edgeToken,
    relayId: config.relayId,
    version: RELAY_VERSION,
    capabilities: relayCapabilities(config),
    heartbeatMs: config.edge.heartbeatSeconds * 1000,
    backoff: { initialMs: 500, maxMs: config.edge.maxBackoffSeconds * 1000 },
    replacedHoldOffMs: config.edge.replacedHoldOffSeconds * 1000,
    logger,
    inFlight: () => runner.inFlight(),
    onMessage: (m) => runner.onMessage(m),
    homeAssistantCheck: () => homeAssistant,
    onReady: () => {
      void runner.onReady().catch((error: unknown) => logger.error(`could not resend the results the edge has not confirmed: ${error instanceof Error ? error.message : String(error)}`));
      watch?.onReady();
    },
  });
  logger.info(`lanyard relay ${RELAY_VERSION} (${config.relayId}) for target ${config.edge.target}; state in ${config.stateDir}`);
  await runner.recover();
  await Promise.race([checked, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  connection.start();
  watch?.start();
  return {
    runner,
    connection,
    watch,
    async stop() {
      connection?.stop();
      await watch?.stop();
      await runner.idle();
    },
  };
}
