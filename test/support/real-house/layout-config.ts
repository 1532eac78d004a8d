// The hand-kept part of the configuration: root files, packages/, automations/, dashboards/,
// blueprints/, esphome/, themes/, python_scripts/, executable scripts/, the symlinks people make
// (relative ones, and absolute ones through Home Assistant's `/config` and an add-on's
// `/homeassistant`), and file names that are odd but legal.
import type { Draft, HouseFacts, TreeLink } from './entries.ts';
import type { Prng } from './random.ts';
import { ROOMS, WORDS, phrase } from './text.ts';

export const SECRET_NAMES = [
  'openweather_api_key', 'tibber_token', 'solaredge_api_key', 'telegram_bot_token', 'mqtt_password', 'influxdb_token',
  'octopus_api_key', 'google_maps_key', 'pushover_user_key', 'ring_refresh_token', 'waste_api_token', 'github_token',
];

/** The links of every size of tree; each target exists in the layout below. */
export const LINKS: readonly TreeLink[] = [
  { path: 'custom_components/spook_inverse', kind: 'symlink', target: '/config/custom_components/spook/integrations/spook_inverse', names: 'folder', reaches: 'custom_components/spook/integrations/spook_inverse', absolute: true },
  { path: 'themes/current.yaml', kind: 'symlink', target: '/config/themes/midnight/midnight.yaml', names: 'file', reaches: 'themes/midnight/midnight.yaml', absolute: true },
  { path: 'esphome/common/wifi.yaml', kind: 'symlink', target: '/homeassistant/esphome/common/network.yaml', names: 'file', reaches: 'esphome/common/network.yaml', absolute: true },
  { path: 'ui-lovelace.yaml', kind: 'symlink', target: 'dashboards/home.yaml', names: 'file', reaches: 'dashboards/home.yaml', absolute: false },
  { path: 'www/sounds', kind: 'symlink', target: '../media/sounds', names: 'folder', reaches: 'media/sounds', absolute: false },
  { path: 'bin/backup', kind: 'symlink', target: '../scripts/backup.sh', names: 'file', reaches: 'scripts/backup.sh', absolute: false },
  { path: 'blueprints/automation/ada/motion_light_latest.yaml', kind: 'symlink', target: 'motion_light_v3.yaml', names: 'file', reaches: 'blueprints/automation/ada/motion_light_v3.yaml', absolute: false },
];

/** Names with spaces, unicode, quotes, brackets, a leading dash, leading dots, many dots. */
export const ODD_NAMES: readonly Draft[] = [
  { path: 'www/images/living room.jpg', content: 'jpeg', natural: 120_000 },
  { path: 'www/images/Küche – Übersicht.png', content: 'png', natural: 90_000 },
  { path: "www/images/ada's room (2).jpg", content: 'jpeg', natural: 110_000 },
  { path: 'www/images/plan [old].png', content: 'png', natural: 70_000 },
  { path: 'www/icons/-weather-sunny.svg', content: 'svg', natural: 1_400 },
  { path: 'blueprints/automation/-archive/old.motion.light.yaml', content: 'blueprint', natural: 2_500 },
  { path: 'themes/ios-dark-mode/ios.dark.mode.v2.yaml', content: 'theme', natural: 3_000 },
  { path: 'themes/..backup/old_theme.yaml', content: 'theme', natural: 1_500 },
  { path: 'dashboards/views/dashboard-home/10 – Überblick.yaml', content: 'dashboard-view', natural: 4_000 },
];

/** Files at the root and the few every house has, whatever its size. */
export function rootDrafts(totalBytes: number): Draft[] {
  return [
    { path: 'configuration.yaml', content: 'configuration', natural: 0 },
    { path: 'automations.yaml', content: 'automations-ui', natural: 0 },
    { path: 'scripts.yaml', content: 'scripts-ui', natural: 0 },
    { path: 'scenes.yaml', content: 'scenes-ui', natural: 0 },
    { path: 'customize.yaml', content: 'customize', natural: 4_000 },
    { path: 'secrets.fake.yaml', content: 'secrets-placeholder', natural: 0 },
    { path: '.gitignore', content: 'gitignore', natural: 0 },
    { path: '.yamllint', content: 'yamllint', natural: 0 },
    { path: 'README.md', content: 'markdown', natural: 9_000 },
    { path: '.github/workflows/check.yaml', content: 'ci-workflow', natural: 0 },
    { path: 'www/snapshots/.gitkeep', content: 'empty', natural: 0 },
    // The multi-MB files: a TensorFlow Lite model for image processing and the floorplan's picture.
    { path: 'tensorflow/ssd_mobilenet_v2/model.tflite', content: 'tflite', natural: Math.max(2 << 20, Math.round(totalBytes * 0.03)) },
    { path: 'www/floorplan/floorplan.png', content: 'png', natural: Math.max(1 << 20, Math.round(totalBytes * 0.02)) },
  ];
}

/** Paths whose sizes are given, not scaled: the multi-MB files. */
export const HEAVY_PATHS: ReadonlySet<string> = new Set(['tensorflow/ssd_mobilenet_v2/model.tflite', 'www/floorplan/floorplan.png']);

export function packagesDrafts(quota: number, random: Prng): Draft[] {
  const out: Draft[] = [];
  for (let i = 0; out.length < quota; i += 1) {
    const area = ROOMS[i % ROOMS.length]!;
    out.push({ path: `packages/${area}/${area}_${random.pick(WORDS)}_${i}.yaml`, content: 'package', natural: random.around(2_500) });
  }
  return out;
}

export function automationFolderDrafts(quota: number, random: Prng): Draft[] {
  const out: Draft[] = [];
  for (let i = 0; out.length < quota; i += 1) out.push({ path: `automations/${random.pick(ROOMS)}/${phrase(random, 2)}_${i}.yaml`, content: 'automation-list', natural: random.around(2_000) });
  return out;
}

/** YAML dashboards and their views; the first is `home`, which ui-lovelace.yaml links to. */
export function dashboardDrafts(quota: number, random: Prng): { drafts: Draft[]; dashboards: HouseFacts['dashboards'] } {
  const names = ['home', 'wall', 'energy', 'mobile', 'security', 'garden', 'media', 'climate'];
  const count = Math.max(2, Math.min(names.length, Math.round(quota / 12)));
  const dashboards = names.slice(0, count).map((name) => ({ slug: `dashboard-${name}`, title: name.charAt(0).toUpperCase() + name.slice(1), file: `dashboards/${name}.yaml` }));
  const drafts: Draft[] = dashboards.map((d) => ({ path: d.file, content: 'dashboard', natural: 0 }));
  for (let i = 0; drafts.length < quota; i += 1) {
    const dashboard = dashboards[i % dashboards.length]!;
    drafts.push({ path: `dashboards/views/${dashboard.slug}/${String(i).padStart(2, '0')}_${random.pick(WORDS)}.yaml`, content: 'dashboard-view', natural: random.around(5_000) });
  }
  return { drafts, dashboards };
}

export function blueprintDrafts(quota: number, random: Prng): Draft[] {
  const out: Draft[] = [
    { path: 'blueprints/automation/homeassistant/motion_light.yaml', content: 'blueprint', natural: 1_800 },
    { path: 'blueprints/automation/homeassistant/notify_leaving_zone.yaml', content: 'blueprint', natural: 1_500 },
    { path: 'blueprints/script/homeassistant/confirmable_notification.yaml', content: 'blueprint', natural: 2_600 },
    { path: 'blueprints/automation/ada/motion_light_v3.yaml', content: 'blueprint', natural: 3_000 },
  ];
  const authors = ['ada', 'grete', 'tomas_k', 'community', 'Hausmeister', 'kpl-zone'];
  for (let i = 0; out.length < quota; i += 1) out.push({ path: `blueprints/automation/${random.pick(authors)}/${phrase(random, 2)}_${i}.yaml`, content: 'blueprint', natural: random.around(4_000) });
  return out;
}

export function esphomeDrafts(quota: number, random: Prng): Draft[] {
  const out: Draft[] = [
    { path: 'esphome/common/base.yaml', content: 'esphome-common', natural: 1_200 },
    { path: 'esphome/common/network.yaml', content: 'esphome-common', natural: 900 },
    { path: 'esphome/secrets.yaml', content: 'esphome-secrets-placeholder', natural: 0, ownedByHost: 'a placeholder committed for CI; the host keeps the real ESPHome secrets there' },
  ];
  for (let i = 0; out.length < quota; i += 1) {
    if (i % 9 === 8) out.push({ path: `esphome/fonts/${random.pick(WORDS)}_${i}.ttf`, content: 'font', natural: random.around(60_000) });
    else out.push({ path: `esphome/${random.pick(ROOMS).replace('_', '-')}-${random.pick(WORDS)}-${i}.yaml`, content: 'esphome-device', natural: random.around(3_000) });
  }
  return out;
}

export function themeDrafts(quota: number, random: Prng): Draft[] {
  const out: Draft[] = [{ path: 'themes/midnight/midnight.yaml', content: 'theme', natural: 4_000 }];
  for (let i = 0; out.length < quota; i += 1) {
    const name = `${random.pick(WORDS)}_${i}`;
    out.push({ path: `themes/${name}/${name}.yaml`, content: 'theme', natural: random.around(3_000) });
  }
  return out;
}

export function pythonScriptDrafts(quota: number, random: Prng): Draft[] {
  const out: Draft[] = [];
  for (let i = 0; out.length < quota; i += 1) out.push({ path: `python_scripts/${phrase(random, 2)}_${i}.py`, content: 'python', natural: random.around(2_500) });
  return out;
}

/** Executable scripts (mode 0755) run by shell_command; returns the drafts and the commands. */
export function scriptDrafts(count: number, random: Prng): { drafts: Draft[]; commands: HouseFacts['shellCommands'] } {
  const names = ['backup', 'restart_zigbee', 'purge_snapshots'];
  for (let i = names.length; names.length < count; i += 1) names.push(`${phrase(random, 2)}_${i}`);
  const drafts: Draft[] = names.map((name) => ({ path: `scripts/${name}.sh`, content: 'shell', natural: random.around(1_500), executable: true }));
  return { drafts, commands: names.map((name) => ({ name, script: `scripts/${name}.sh` })) };
}
