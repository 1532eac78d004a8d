// The hand-written YAML of a Home Assistant configuration: configuration.yaml, packages, folders
// of automations, dashboards, blueprints, themes, services.yaml of custom integrations, and the
// repository's tooling files. Every file parses as YAML and loads in Home Assistant's (and the
// stand-in's) config check: keys are unique, `!secret` names are the ones the host defines, and
// exact-size files close their gap with a comment line.
import type { HouseFacts } from './entries.ts';
import type { Prng } from './random.ts';
import { ROOMS, WORDS, entityId, exactText, phrase, title, words } from './text.ts';

/** A file's name as a YAML key: `Küche – Übersicht.yaml` → `k_che_bersicht`. */
export function keyOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'file';
}

const YAML_FILL = { fillOpen: '# ', fillClose: '\n' };

export function configurationYaml(facts: HouseFacts): Buffer {
  const dashboards = facts.dashboards
    .map((d) => `    ${d.slug}:\n      mode: yaml\n      title: ${d.title}\n      icon: mdi:view-dashboard\n      show_in_sidebar: true\n      filename: ${d.file}\n`)
    .join('');
  const shell = facts.shellCommands.map((c) => `  ${c.name}: /config/${c.script}\n`).join('');
  return Buffer.from(
    `# Loads default set of integrations. Do not remove.
default_config:

homeassistant:
  name: Home
  latitude: !secret home_latitude
  longitude: !secret home_longitude
  elevation: 12
  unit_system: metric
  currency: EUR
  country: NL
  time_zone: Europe/Amsterdam
  customize: !include customize.yaml
  packages: !include_dir_named packages
  allowlist_external_dirs:
    - /config/www/snapshots
  media_dirs:
    media: /config/media

http:
  use_x_forwarded_for: true
  trusted_proxies:
    - ::1
    - 127.0.0.1
  ip_ban_enabled: true
  login_attempts_threshold: 5

frontend:
  themes: !include_dir_merge_named themes
  extra_module_url:
    - /hacsfiles/lovelace-card-mod/card-mod.js

lovelace:
  mode: storage
  dashboards:
${dashboards}
automation ui: !include automations.yaml
automation manual: !include_dir_merge_list automations
script: !include scripts.yaml
scene: !include scenes.yaml

shell_command:
${shell}
python_script:

recorder:
  purge_keep_days: 14
  commit_interval: 5

logger:
  default: warning
  logs:
    custom_components.spook: info

tts:
  - platform: google_translate
    language: nl
`,
  );
}

/** customize.yaml: friendly names and icons per entity. */
export function customizeYaml(size: number, random: Prng): Buffer {
  return exactText(size, { head: '# Names and icons the UI does not set.\n', record: (i) => `${entityId(random)}_${i}:\n  friendly_name: ${title(random, 3)}\n  icon: mdi:${random.pick(WORDS)}\n`, ...YAML_FILL }, random);
}

/** A package: input helpers, template sensors, a REST sensor with a secret, automations. */
export function packageYaml(path: string, size: number, facts: HouseFacts, random: Prng): Buffer {
  const key = keyOf(path);
  const sections: { header: string; count: number; record: (i: number) => string }[] = [
    { header: 'input_boolean:\n', count: 3, record: (i) => `  ${key}_${phrase(random, 2)}_${i}:\n    name: ${title(random, 3)}\n    icon: mdi:${random.pick(WORDS)}\n` },
    {
      header: 'template:\n- sensor:\n',
      count: 4,
      record: (i) =>
        `  - name: ${title(random, 3)} ${i}\n    unique_id: ${key}_template_${i}\n    unit_of_measurement: W\n    state: "{{ states('sensor.${random.pick(ROOMS)}_power') | float(0) * ${random.between(1, 9)} }}"\n`,
    },
    {
      header: 'rest:\n',
      count: 1,
      record: (i) =>
        `- resource: https://api.example.org/v1/${random.pick(WORDS)}\n  scan_interval: ${random.between(60, 900)}\n  headers:\n    Authorization: !secret ${random.pick(facts.secretNames)}\n  sensor:\n  - name: ${title(random, 2)} ${i}\n    value_template: '{{ value_json.${random.pick(WORDS)} }}'\n`,
    },
    {
      header: 'automation:\n',
      count: Number.POSITIVE_INFINITY,
      record: (i) => {
        const room = random.pick(ROOMS);
        return `- id: ${key}_${i}\n  alias: ${title(random, 4)}\n  triggers:\n  - trigger: state\n    entity_id: binary_sensor.${room}_${random.pick(WORDS)}\n    to: 'on'\n  actions:\n  - action: ${random.pick(['light.turn_on', 'switch.turn_off', 'script.turn_on', 'notify.notify'])}\n    target:\n      entity_id: ${entityId(random)}\n`;
      },
    },
  ];
  let index = 0;
  let within = 0;
  return exactText(
    size,
    {
      head: `# ${title(random, 2)}: everything for ${key.replaceAll('_', ' ')} in one package.\n`,
      record: () => {
        const section = sections[index]!;
        const text = (within === 0 ? section.header : '') + section.record(within);
        within += 1;
        if (within >= section.count) {
          index += 1;
          within = 0;
        }
        return text;
      },
      ...YAML_FILL,
    },
    random,
  );
}

/** A file of `!include_dir_merge_list automations`: a list of hand-written automations. */
export function automationListYaml(path: string, size: number, random: Prng): Buffer {
  const key = keyOf(path);
  return exactText(
    size,
    {
      head: `# ${title(random, 3)}\n`,
      record: (i) =>
        `- id: ${key}_${i}\n  alias: ${title(random, 4)}\n  mode: ${random.pick(['single', 'restart'])}\n  triggers:\n    - trigger: time_pattern\n      minutes: /${random.between(1, 30)}\n  conditions:\n    - condition: state\n      entity_id: ${entityId(random)}\n      state: home\n  actions:\n    - action: homeassistant.update_entity\n      target:\n        entity_id: ${entityId(random)}\n`,
      ...YAML_FILL,
    },
    random,
  );
}

/** A YAML dashboard's file: its views live in a folder of their own. */
export function dashboardYaml(slug: string, dashboardTitle: string): Buffer {
  return Buffer.from(`title: ${dashboardTitle}\nviews: !include_dir_list views/${slug}\n`);
}

const CARDS = ['entities', 'custom:mushroom-light-card', 'custom:button-card', 'custom:apexcharts-card', 'glance', 'tile', 'history-graph'];

export function dashboardViewYaml(path: string, size: number, random: Prng): Buffer {
  const key = keyOf(path);
  return exactText(
    size,
    {
      head: `title: ${title(random, 2)}\npath: ${key.replaceAll('_', '-')}\nicon: mdi:${random.pick(WORDS)}\ncards:\n`,
      record: () => {
        const type = random.pick(CARDS);
        let card = `- type: ${type}\n  title: ${title(random, 2)}\n  entities:\n`;
        for (let e = random.between(2, 6); e > 0; e -= 1) card += `  - entity: ${entityId(random)}\n    name: ${title(random, 2)}\n`;
        if (type === 'custom:button-card') card += `  styles:\n    card:\n    - border-radius: ${random.between(4, 24)}px\n    - background: var(--${random.pick(WORDS)}-color)\n`;
        return card;
      },
      ...YAML_FILL,
    },
    random,
  );
}

export function blueprintYaml(path: string, size: number, random: Prng): Buffer {
  const key = keyOf(path);
  return exactText(
    size,
    {
      head: `blueprint:\n  name: ${title(random, 3)}\n  description: ${title(random, 12)}.\n  domain: automation\n  author: Ada Homeowner\n  source_url: https://example.org/blueprints/${key}.yaml\n  input:\n    trigger_entity:\n      name: Trigger\n      selector:\n        entity:\n          filter:\n          - domain: binary_sensor\n`,
      record: (i) => `    ${phrase(random, 2)}_${i}:\n      name: ${title(random, 2)}\n      description: ${title(random, 8)}.\n      default: ${random.between(0, 120)}\n      selector:\n        number:\n          min: 0\n          max: 3600\n          unit_of_measurement: seconds\n`,
      ...YAML_FILL,
      tail: `mode: restart\nmax_exceeded: silent\ntriggers:\n- trigger: state\n  entity_id: !input trigger_entity\n  from: 'off'\n  to: 'on'\nactions:\n- action: light.turn_on\n  target:\n    area_id: ${random.pick(ROOMS)}\n`,
    },
    random,
  );
}

/** A theme for `!include_dir_merge_named themes`: one top-level key named after its file. */
export function themeYaml(path: string, size: number, random: Prng): Buffer {
  const hex = () => random.next().toString(16).padStart(8, '0').slice(0, 6);
  return exactText(size, { head: `${keyOf(path)}:\n  primary-color: "#${hex()}"\n`, record: (i) => `  ${phrase(random, 2, '-')}-${i}-color: "#${hex()}"\n`, ...YAML_FILL }, random);
}

/** services.yaml of a custom integration. */
export function servicesYaml(size: number, random: Prng): Buffer {
  return exactText(
    size,
    {
      head: '',
      record: (i) =>
        `${phrase(random, 2)}_${i}:\n  name: ${title(random, 3)}\n  description: ${title(random, 10)}.\n  fields:\n    entity_id:\n      required: true\n      example: ${entityId(random)}\n      selector:\n        entity:\n          integration: ${random.pick(WORDS)}\n    ${random.pick(WORDS)}:\n      example: ${random.between(1, 100)}\n      selector:\n        number:\n          min: 0\n          max: 100\n`,
      ...YAML_FILL,
    },
    random,
  );
}

/** secrets.fake.yaml: what CI copies to secrets.yaml so the config check can run without the real ones. */
export function secretsPlaceholderYaml(facts: HouseFacts): Buffer {
  return Buffer.from(['home_latitude: 52.0', 'home_longitude: 5.0', ...facts.secretNames.map((name) => `${name}: ci-placeholder`), ''].join('\n'));
}

export function yamllintYaml(): Buffer {
  return Buffer.from(`extends: default\nignore: |\n  .storage/\n  www/community/\n  custom_components/\nrules:\n  line-length: disable\n  truthy:\n    allowed-values: ['true', 'false', 'on', 'off']\n  document-start: disable\n`);
}

export function ciWorkflowYaml(): Buffer {
  return Buffer.from(`name: Config check\non:\n  push:\n  pull_request:\njobs:\n  yamllint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install yamllint && yamllint .\n  check:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: cp secrets.fake.yaml secrets.yaml\n      - uses: frenck/action-home-assistant@v1\n        with:\n          path: .\n          secrets: secrets.fake.yaml\n`);
}

export function gitignoreText(): Buffer {
  return Buffer.from(
    ['# Home Assistant state: never in git', '.storage/', '.cloud/', 'deps/', 'tts/', 'backups/', '*.db', '*.db-shm', '*.db-wal', '*.log', '*.log.*', '.HA_VERSION', '.uuid', '.ha_run.lock', 'ip_bans.yaml', 'known_devices.yaml', '/secrets.yaml', 'www/snapshots/*', '!www/snapshots/.gitkeep', 'esphome/.esphome/', ''].join('\n'),
  );
}

/** Text of the `words` filler, for markdown and other prose. */
export function markdownText(size: number, random: Prng): Buffer {
  return exactText(
    size,
    {
      head: `# ${title(random, 3)}\n\n`,
      record: (i) => (i % 4 === 0 ? `## ${title(random, 3)}\n\n` : `${title(random, 1)} ${words(random, random.between(80, 400)).trim()}.\n\n`),
      fillOpen: '<!-- ',
      fillClose: ' -->\n',
    },
    random,
  );
}
