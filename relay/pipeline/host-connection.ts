// The pipeline's one connection to the host: opened on first use, proved alive before it is reused,
// replaced when it dropped; and, for a rollback, tried again while a lost host comes back.
import { backoffDelay, type BackoffPolicy } from '../channel/backoff.ts';
import type { LoadedConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { StepRunner } from '../step-runner.ts';
import { openTargetHost } from '../transport/open-target-host.ts';
import type { TargetHost } from '../transport/target-host.ts';

/** How long a reused connection may take to run `true` before it counts as dead. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * How long a rollback keeps trying to reach a host it lost in the middle of a deploy (a reboot, a
 * network blink): long enough for a Raspberry Pi or a NUC to boot, after which it says how to
 * restore by hand.
 */
const ROLLBACK_RECONNECT_MS = 5 * 60_000;
/** The pauses between those tries: 1 s growing to 15 s, jittered like the edge connection's. */
const ROLLBACK_RETRY: BackoffPolicy = { initialMs: 1000, maxMs: 15_000 };
/** Errors of a host that may come back; a wrong key or a refused login will not fix itself. */
const TRANSIENT_HOST_ERRORS: ReadonlySet<string> = new Set(['unreachable', 'timeout', 'connection_lost', 'ssh_failed']);

/** Whether a connection still runs commands: one `true`, within PROBE_TIMEOUT_MS. */
async function answers(open: TargetHost): Promise<boolean> {
  if (!open.connected) return false;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), PROBE_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([open.run('true'), timedOut]);
    return result !== null && result.code === 0 && open.connected;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One connection, opened on first use; the promise is kept so that two callers at once (a job and
 * the backup inventory) share it instead of each opening one. Before a job reuses it, one round
 * trip proves it still works: a connection that dropped (the host rebooted, the network blinked,
 * or the drop is not even noticed yet) is replaced, so the job connects again instead of failing
 * on a dead connection until the relay is restarted.
 */
export class HostConnection {
  private hostConnection: Promise<TargetHost> | null = null;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly logger: Logger,
  ) {}

  readonly host = async (): Promise<TargetHost> => {
    const current = this.hostConnection;
    if (current) {
      const open = await current.catch(() => null);
      if (open && (await answers(open))) return open;
      if (this.hostConnection === current) {
        this.hostConnection = null;
        if (open) {
          this.logger.warn(`the connection to ${open.description} was lost; connecting again`);
          void open.close().catch(() => undefined);
        }
      }
    }
    return (this.hostConnection ??= openTargetHost(this.loaded).catch((error: unknown) => {
      this.hostConnection = null;
      throw error;
    }));
  };

  async close(): Promise<void> {
    const opening = this.hostConnection;
    this.hostConnection = null;
    const open = await opening?.catch(() => null);
    await open?.close();
  }
}

/**
 * The host for a rollback. The deploy may have failed because the connection dropped halfway
 * through, and the house must not stay half-written: a host that cannot be reached is tried again,
 * with a growing pause, for up to ROLLBACK_RECONNECT_MS, keeping the edge's lease alive meanwhile.
 */
export async function hostForRollback(host: () => Promise<TargetHost>, logger: Logger, steps: StepRunner): Promise<TargetHost> {
  const deadline = Date.now() + ROLLBACK_RECONNECT_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await host();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const delay = backoffDelay(attempt - 1, ROLLBACK_RETRY);
      if (typeof code !== 'string' || !TRANSIENT_HOST_ERRORS.has(code) || Date.now() + delay > deadline) throw error;
      const why = error instanceof Error ? error.message : String(error);
      steps.heartbeat(`cannot reach the host to roll back (attempt ${attempt}: ${why}); trying again in ${(delay / 1000).toFixed(1)} s`);
      logger.warn(`rollback: cannot reach the host (attempt ${attempt}): ${why}; trying again in ${(delay / 1000).toFixed(1)} s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
