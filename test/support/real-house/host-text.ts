// The text Home Assistant keeps for itself in its config folder: secrets.yaml with every secret
// the repository names, the .storage JSON files, the log, the version and identity files, bans
// and legacy device trackers. Only the host has them.
import type { HouseFacts } from './entries.ts';
import type { Prng } from './random.ts';
import { ROOMS, WORDS, entityId, exactText, title } from './text.ts';

export function secretsYaml(facts: HouseFacts, random: Prng): Buffer {
  const lines = ['home_latitude: 52.3731', 'home_longitude: 4.8922'];
  for (const name of facts.secretNames) lines.push(`${name}: "Bearer ${random.next().toString(36)}${random.next().toString(36)}${random.next().toString(36)}"`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** A .storage file: HA's versioned JSON envelope around a list of records. */
export function storageJson(key: string, size: number, random: Prng): Buffer {
  return exactText(
    size,
    {
      head: `{\n  "version": 1,\n  "minor_version": ${random.between(1, 15)},\n  "key": "${key}",\n  "data": {\n    "items": [\n`,
      record: (i) =>
        `      {\n        "id": "${random.next().toString(16)}${random.next().toString(16)}",\n        "entity_id": "${entityId(random)}_${i}",\n        "name": "${title(random, 2)}",\n        "area_id": "${random.pick(ROOMS)}",\n        "created_at": "2025-0${random.between(1, 9)}-1${random.between(0, 9)}T0${random.between(0, 9)}:${random.between(10, 59)}:00.${random.between(100000, 999999)}+00:00",\n        "options": {"${random.pick(WORDS)}": {"${random.pick(WORDS)}": ${random.between(0, 1000)}}}\n      },\n`,
      fillOpen: '      {"notes": "',
      fillClose: '"}\n',
      tail: '    ]\n  }\n}',
    },
    random,
  );
}

export function logText(size: number, random: Prng): Buffer {
  return exactText(
    size,
    {
      head: '2026-11-22 06:59:58.001 INFO (MainThread) [homeassistant.bootstrap] Home Assistant initialized in 12.41s\n',
      record: () =>
        `2026-11-22 ${String(random.between(7, 23)).padStart(2, '0')}:${String(random.below(60)).padStart(2, '0')}:${String(random.below(60)).padStart(2, '0')}.${String(random.below(1000)).padStart(3, '0')} ${random.pick(['INFO', 'WARNING', 'WARNING', 'ERROR', 'DEBUG'])} (${random.pick(['MainThread', 'SyncWorker_3', 'Recorder'])}) [custom_components.${random.pick(WORDS)}.${random.pick(['sensor', 'coordinator', 'api'])}] ${title(random, 7)}: ${entityId(random)}\n`,
      fillOpen: '',
      fillClose: '\n',
    },
    random,
  );
}

export function ipBansYaml(): Buffer {
  return Buffer.from(`203.0.113.77:\n  banned_at: '2026-10-02T03:14:15.926535+00:00'\n198.51.100.23:\n  banned_at: '2026-11-11T11:11:11.111111+00:00'\n`);
}

export function knownDevicesYaml(random: Prng): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 12; i += 1) {
    lines.push(`${random.pick(WORDS)}_phone_${i}:\n  name: ${title(random, 2)}\n  mac: ${Array.from({ length: 6 }, () => random.below(256).toString(16).padStart(2, '0')).join(':').toUpperCase()}\n  icon:\n  picture:\n  track: false\n`);
  }
  return Buffer.from(lines.join(''));
}

/** The .storage files a house of some years holds, by name: most small, the registries large. */
export const STORAGE_FILES: readonly { key: string; share: number }[] = [
  { key: 'core.entity_registry', share: 20 },
  { key: 'core.device_registry', share: 8 },
  { key: 'core.restore_state', share: 12 },
  { key: 'trace.saved_traces', share: 25 },
  { key: 'core.config_entries', share: 4 },
  { key: 'core.area_registry', share: 0.3 },
  { key: 'core.floor_registry', share: 0.1 },
  { key: 'core.label_registry', share: 0.1 },
  { key: 'core.category_registry', share: 0.1 },
  { key: 'core.config', share: 0.1 },
  { key: 'core.uuid', share: 0.05 },
  { key: 'core.analytics', share: 0.05 },
  { key: 'core.network', share: 0.05 },
  { key: 'core.logger', share: 0.05 },
  { key: 'auth', share: 2 },
  { key: 'auth_provider.homeassistant', share: 0.2 },
  { key: 'onboarding', share: 0.05 },
  { key: 'person', share: 0.2 },
  { key: 'http', share: 0.05 },
  { key: 'http.auth', share: 0.05 },
  { key: 'frontend.system_data', share: 0.05 },
  { key: 'frontend.user_data_3c1d05e0d9a74b2b9f3d2e3e6a1b0c7d', share: 0.3 },
  { key: 'lovelace', share: 3 },
  { key: 'lovelace.dashboard_energy', share: 0.5 },
  { key: 'lovelace.dashboard_mobile', share: 2 },
  { key: 'lovelace.dashboard_tablet', share: 2 },
  { key: 'lovelace.map', share: 0.1 },
  { key: 'lovelace_dashboards', share: 0.1 },
  { key: 'lovelace_resources', share: 0.2 },
  { key: 'hacs.data', share: 1 },
  { key: 'hacs.repositories', share: 6 },
  { key: 'hacs.critical', share: 0.05 },
  { key: 'input_boolean', share: 0.3 },
  { key: 'input_number', share: 0.2 },
  { key: 'input_select', share: 0.2 },
  { key: 'input_text', share: 0.1 },
  { key: 'input_datetime', share: 0.1 },
  { key: 'counter', share: 0.05 },
  { key: 'timer', share: 0.05 },
  { key: 'schedule', share: 0.05 },
  { key: 'zone', share: 0.05 },
  { key: 'tag', share: 0.05 },
  { key: 'energy', share: 0.1 },
  { key: 'assist_pipeline.pipelines', share: 0.05 },
  { key: 'homeassistant.exposed_entities', share: 2 },
  { key: 'repairs.issue_registry', share: 0.2 },
  { key: 'bluetooth.passive_update_processor', share: 1 },
  { key: 'backup', share: 0.1 },
  { key: 'mobile_app', share: 0.1 },
  { key: 'application_credentials', share: 0.05 },
  { key: 'esphome.01J8ZK4QW5E8X2N3Y7V6T1R0AB', share: 0.2 },
  { key: 'esphome.01J8ZK4QW5E8X2N3Y7V6T1R0CD', share: 0.2 },
];
