// `sensor.lanyard_<target>` in Home Assistant: the deployment state a homeowner can put on a
// dashboard or automate on. Written through HA's REST API (`POST /api/states`), which HA forgets
// when it restarts, so the last state is also kept on the relay's disk and published again when
// the relay is idle and connected. Publishing never throws: a failure is logged and retried a few
// times in the background, unless a newer state has been published meanwhile (the latest wins).
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HomeAssistantClient } from '../home-assistant/client.ts';
import { writeFileAtomic } from '../journal.ts';
import type { Logger } from '../log.ts';

export const SENSOR_STATES = ['idle', 'deploying', 'succeeded', 'rolled_back', 'failed', 'waiting_for_window'] as const;
export type SensorState = (typeof SENSOR_STATES)[number];

export const SENSOR_ICONS: Record<SensorState, string> = {
  idle: 'mdi:sleep',
  deploying: 'mdi:progress-upload',
  succeeded: 'mdi:check-circle',
  rolled_back: 'mdi:backup-restore',
  failed: 'mdi:alert-circle',
  waiting_for_window: 'mdi:clock-outline',
};

/** `home` → `sensor.lanyard_home`, `beach-house` → `sensor.lanyard_beach_house` (a valid HA object id). */
export function sensorEntityId(target: string): string {
  const objectId = target.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return `sensor.lanyard_${objectId || 'target'}`;
}

export interface SensorReading {
  state: SensorState;
  attributes: Record<string, unknown>;
}

export interface DeploymentSensorOptions {
  ha: Pick<HomeAssistantClient, 'setState'>;
  target: string;
  /** Where the last published reading is kept, for publishing again after HA restarted. */
  stateFile: string;
  logger: Logger;
  /** Background retries after a failed publish. Default 5, `retryDelayMs` (2 s) apart, growing. */
  retries?: number;
  retryDelayMs?: number;
}

export class DeploymentSensor {
  readonly entityId: string;
  private version = 0;
  private latest: SensorReading | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** The kept reading's writes, one at a time in publish order, so the last published is the one kept. */
  private saving: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The drift watch's attributes (driftAttributes in house-outward.ts), carried by every reading. */
  private drift: Record<string, unknown> = {};
  /** The edge's freeze (freezeAttributes in house-outward.ts), carried by every reading. */
  private freeze: Record<string, unknown> = {};

  constructor(private readonly options: DeploymentSensorOptions) {
    this.entityId = sensorEntityId(options.target);
  }

  /** Publishes a reading and waits for the first attempt (bounded by the HA client's timeout). */
  async publish(reading: SensorReading): Promise<void> {
    const version = ++this.version;
    this.latest = { state: reading.state, attributes: { ...reading.attributes, ...this.drift, ...this.freeze } };
    await this.save(this.latest);
    if (!(await this.attempt(version))) this.retryLater(version, 1);
  }

  /** The last reading published (from disk after a relay restart), or `idle`; used when nothing runs. */
  async republish(): Promise<void> {
    const reading = this.latest ?? (await this.load()) ?? { state: 'idle' as const, attributes: this.baseAttributes('idle') };
    await this.publish(reading);
  }

  /**
   * The drift watch saw the host: the same state with these drift attributes, published again only
   * when they changed (a look every few minutes must not write to Home Assistant every few minutes).
   */
  async setDrift(attributes: Record<string, unknown>): Promise<void> {
    if (JSON.stringify(attributes) === JSON.stringify(this.drift)) return;
    this.drift = attributes;
    const reading = this.latest ?? (await this.load()) ?? { state: 'idle' as const, attributes: this.baseAttributes('idle') };
    await this.publish(reading);
  }

  /** The edge froze the target or lifted its freeze: the same state with these attributes, published again only when they changed. */
  async setFreeze(attributes: Record<string, unknown>): Promise<void> {
    if (JSON.stringify(attributes) === JSON.stringify(this.freeze)) return;
    this.freeze = attributes;
    const reading = this.latest ?? (await this.load()) ?? { state: 'idle' as const, attributes: this.baseAttributes('idle') };
    await this.publish(reading);
  }

  /** Attributes every reading carries. */
  baseAttributes(state: SensorState): Record<string, unknown> {
    return { friendly_name: `Lanyard ${this.options.target}`, icon: SENSOR_ICONS[state], target: this.options.target };
  }

  /** Stops background retries (relay shutting down, tests). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.version += 1;
  }

  private attempt(version: number): Promise<boolean> {
    // One write at a time, in order: a slow earlier write must not land after a newer one.
    const run = this.queue.then(async () => {
      const reading = this.latest;
      if (version !== this.version || !reading) return true;
      try {
        await this.options.ha.setState(this.entityId, reading.state, reading.attributes);
        return true;
      } catch (error) {
        this.options.logger.warn(`could not publish ${this.entityId} = ${reading.state}: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      }
    });
    this.queue = run;
    return run;
  }

  private retryLater(version: number, attempt: number): void {
    const retries = this.options.retries ?? 5;
    if (attempt > retries || version !== this.version) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(version).then((ok) => {
        if (!ok) this.retryLater(version, attempt + 1);
        else if (version === this.version) this.options.logger.info(`published ${this.entityId} = ${this.latest?.state} after ${attempt + 1} attempts`);
      });
    }, (this.options.retryDelayMs ?? 2000) * attempt);
    timer.unref();
    this.timers.add(timer);
  }

  private save(reading: SensorReading): Promise<void> {
    const run = this.saving.then(() => this.saveNow(reading));
    this.saving = run;
    return run;
  }

  /** Never throws: a reading that cannot be kept is only not shown again after a relay restart. */
  private async saveNow(reading: SensorReading): Promise<void> {
    try {
      await mkdir(dirname(this.options.stateFile), { recursive: true });
      await writeFileAtomic(this.options.stateFile, JSON.stringify(reading));
    } catch (error) {
      this.options.logger.warn(`could not keep the sensor state in ${this.options.stateFile}: ${String(error)}`);
    }
  }

  private async load(): Promise<SensorReading | null> {
    try {
      const parsed = JSON.parse(await readFile(this.options.stateFile, 'utf8')) as SensorReading;
      return SENSOR_STATES.includes(parsed.state) && parsed.attributes && typeof parsed.attributes === 'object' ? parsed : null;
    } catch {
      return null;
    }
  }
}
