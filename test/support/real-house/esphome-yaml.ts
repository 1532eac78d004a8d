// The ESPHome dashboard's folder inside the config: one YAML per device, shared packages under
// `common/`, the secrets they name (a placeholder committed for CI, the real one on the host) and,
// on the host only, the build folder the ESPHome add-on writes.
import type { Prng } from './random.ts';
import { WORDS, exactText, title } from './text.ts';
import { keyOf } from './config-yaml.ts';

export const ESPHOME_SECRETS = ['wifi_ssid', 'wifi_password', 'fallback_password', 'api_encryption_key', 'ota_password'];

const YAML_FILL = { fillOpen: '# ', fillClose: '\n' };

export function esphomeDeviceYaml(path: string, size: number, random: Prng): Buffer {
  const name = keyOf(path).replaceAll('_', '-');
  return exactText(
    size,
    {
      head: `substitutions:\n  name: ${name}\n  friendly_name: ${title(random, 2)}\n\nesphome:\n  name: \${name}\n  friendly_name: \${friendly_name}\n\nesp32:\n  board: esp32dev\n  framework:\n    type: esp-idf\n\npackages:\n  base: !include common/base.yaml\n\nwifi:\n  ssid: !secret wifi_ssid\n  password: !secret wifi_password\n  ap:\n    password: !secret fallback_password\n\napi:\n  encryption:\n    key: !secret api_encryption_key\n\nota:\n- platform: esphome\n  password: !secret ota_password\n\nsensor:\n`,
      record: (i) =>
        `- platform: ${random.pick(['dht', 'bme280_i2c', 'adc', 'pulse_counter', 'uptime'])}\n  id: ${random.pick(WORDS)}_${i}\n  name: ${title(random, 2)} ${i}\n  update_interval: ${random.between(5, 120)}s\n  filters:\n  - sliding_window_moving_average:\n      window_size: ${random.between(2, 15)}\n      send_every: ${random.between(1, 5)}\n`,
      ...YAML_FILL,
    },
    random,
  );
}

export function esphomeCommonYaml(size: number, random: Prng): Buffer {
  return exactText(
    size,
    {
      head: 'logger:\n  level: INFO\n\ntime:\n- platform: homeassistant\n  id: ha_time\n\ntext_sensor:\n',
      record: (i) => `- platform: ${random.pick(['version', 'wifi_info', 'template'])}\n  id: ${random.pick(WORDS)}_text_${i}\n  name: ${title(random, 2)}\n`,
      ...YAML_FILL,
    },
    random,
  );
}

/** esphome/secrets.yaml as a repository keeps it so CI can compile: placeholders only. */
export function esphomeSecretsPlaceholder(): Buffer {
  return Buffer.from(`# Placeholders for CI; the real ones live on the host only.\n${ESPHOME_SECRETS.map((s) => `${s}: "ci-placeholder-${s}"`).join('\n')}\n`);
}

/** esphome/secrets.yaml on the host: the real values. */
export function esphomeSecretsReal(random: Prng): Buffer {
  return Buffer.from(`${ESPHOME_SECRETS.map((s) => `${s}: "${random.next().toString(36)}${random.next().toString(36)}"`).join('\n')}\n`);
}

/** What the ESPHome add-on leaves in esphome/.esphome/: storage records and build output. */
export function esphomeBuildText(size: number, random: Prng): Buffer {
  return exactText(size, { head: '{"storage_version": 1, "firmware_bin_path": "', record: () => `${random.pick(WORDS)}/`, fillOpen: '', fillClose: '', tail: 'firmware.bin"}\n' }, random);
}
