// custom_components/: custom integrations as HACS installs them, each a Python package with its
// manifest, translations, services.yaml and platform modules, nested subpackages, and for the
// big ones a folder of hundreds of modules (as a waste-collection integration has one source per
// town). A few commit their `__pycache__/` too, as some repositories do. Spook always comes with
// its `integrations/spook_inverse` package, the folder the best-known absolute link points to.
import type { Draft } from './entries.ts';
import type { Prng } from './random.ts';
import { WORDS, phrase } from './text.ts';

const NAMES = [
  'hacs', 'spook', 'waste_collection_schedule', 'xiaomi_miot', 'alexa_media', 'localtuya', 'browser_mod', 'adaptive_lighting',
  'powercalc', 'nordpool', 'battery_notes', 'scheduler', 'frigate', 'tapo_control', 'sonoff', 'midea_ac_lan', 'solcast_solar',
  'entsoe', 'places', 'bermuda', 'dreame_vacuum', 'webrtc', 'var', 'afvalwijzer', 'smartthinq_sensors', 'ble_monitor',
  'garmin_connect', 'pyscript', 'watchman', 'average', 'nodered', 'zha_toolkit', 'better_thermostat', 'versatile_thermostat',
  'octopus_energy', 'mail_and_packages', 'icloud3', 'plant', 'openplantbook', 'feedparser', 'sun2', 'alarmo', 'tuya_local',
  'meross_lan', 'hildebrand_glow', 'auto_backup', 'ui_lovelace_minimalist', 'samsungtv_smart', 'emporia_vue', 'dwains_dashboard',
];

const LANGUAGES = ['en', 'de', 'fr', 'nl', 'it', 'es', 'pl', 'sv', 'da', 'nb', 'cs', 'sk', 'hu', 'ru', 'uk', 'pt', 'pt-BR', 'zh-Hans', 'zh-Hant', 'ja', 'ko'];
const PLATFORMS = ['sensor', 'binary_sensor', 'switch', 'light', 'climate', 'cover', 'select', 'number', 'button', 'fan', 'media_player', 'vacuum', 'camera', 'update', 'lock'];
const CORE_MODULES = ['__init__', 'const', 'config_flow', 'coordinator', 'entity', 'diagnostics', 'helpers'];

/** Median sizes of a real integration's files. */
const PY = 5_000;
const TRANSLATION = 3_000;
const FRONTEND_JS = 14_000;

interface IntegrationPlan {
  name: string;
  files: number;
  /** Commits `__pycache__/*.pyc` beside its modules. */
  bytecode: boolean;
  /** Where its bulk of modules goes, relative to its folder. */
  bulk: string;
  /** Ships a frontend bundle (HACS itself, browser_mod). */
  frontend: boolean;
}

/** The files of one integration, most essential first, with bytecode right after each module. */
function integrationDrafts(plan: IntegrationPlan, random: Prng): Draft[] {
  const root = `custom_components/${plan.name}`;
  const out: Draft[] = [];
  const bytecode = 'committed by a repository that does not ignore __pycache__/; Home Assistant writes its own there';
  const module = (folder: string, stem: string, natural = random.around(PY)) => {
    out.push({ path: `${folder}/${stem}.py`, content: stem === '__init__' && folder !== root && random.chance(50) ? 'empty' : 'python', natural });
    if (plan.bytecode) out.push({ path: `${folder}/__pycache__/${stem}.cpython-312.pyc`, content: 'pyc', natural: Math.round(natural * 0.9), ownedByHost: bytecode });
  };
  module(root, '__init__');
  out.push({ path: `${root}/manifest.json`, content: 'manifest', natural: 0 });
  for (const stem of CORE_MODULES.slice(1)) module(root, stem);
  out.push({ path: `${root}/services.yaml`, content: 'services', natural: random.around(2_500) });
  out.push({ path: `${root}/py.typed`, content: 'empty', natural: 0 });
  const languages = random.between(1, plan.files > 60 ? LANGUAGES.length : 6);
  for (const language of LANGUAGES.slice(0, languages)) out.push({ path: `${root}/translations/${language}.json`, content: 'translation', natural: random.around(TRANSLATION) });
  for (const platform of PLATFORMS.slice(0, random.between(2, 8))) module(root, platform);
  // A client subpackage, and in the larger ones a generated protocol layer six folders down.
  for (const stem of ['__init__', 'client', 'models', 'exceptions', 'auth']) module(`${root}/api`, stem);
  if (plan.files > 80) for (const stem of ['__init__', 'messages', 'codec', 'enums']) module(`${root}/api/v2/protocol/generated`, stem);
  if (plan.frontend) {
    const frontend = `${root}/${plan.name}_frontend`;
    out.push({ path: `${frontend}/entrypoint.js`, content: 'javascript', natural: random.around(FRONTEND_JS) });
    for (let i = 0; out.length < plan.files * 0.6; i += 1) {
      const name = `c.${random.next().toString(16).padStart(8, '0')}.js`;
      const natural = random.around(FRONTEND_JS);
      out.push({ path: `${frontend}/frontend_es5/${name}`, content: 'javascript', natural });
      out.push({ path: `${frontend}/frontend_es5/${name}.gz`, content: 'gzip', natural: Math.round(natural * 0.3) });
    }
  }
  for (let i = 0; out.length < plan.files; i += 1) module(`${root}/${plan.bulk}`, i === 0 ? '__init__' : `${phrase(random, 2)}_${i}`);
  return out.slice(0, plan.files);
}

/** Spook and its bundled integrations: the target of `custom_components/spook_inverse`. */
function spookDrafts(files: number, random: Prng): Draft[] {
  const root = 'custom_components/spook';
  const out: Draft[] = [];
  const module = (folder: string, stem: string) => out.push({ path: `${folder}/${stem}.py`, content: 'python', natural: random.around(PY) });
  out.push({ path: `${root}/manifest.json`, content: 'manifest', natural: 0 });
  for (const stem of ['__init__', 'const', 'config_flow', 'entity', 'repairs', 'services', 'util']) module(root, stem);
  out.push({ path: `${root}/services.yaml`, content: 'services', natural: random.around(6_000) });
  out.push({ path: `${root}/translations/en.json`, content: 'translation', natural: random.around(12_000) });
  const inverse = `${root}/integrations/spook_inverse`;
  out.push({ path: `${inverse}/manifest.json`, content: 'manifest', natural: 0 });
  for (const stem of ['__init__', 'config_flow', 'const', 'binary_sensor', 'switch']) module(inverse, stem);
  out.push({ path: `${inverse}/translations/en.json`, content: 'translation', natural: random.around(TRANSLATION) });
  // Ectoplasms: one subpackage per domain, each with its services.
  for (let d = 0; out.length < files; d += 1) {
    const domain = `${random.pick(WORDS)}_${d}`;
    module(`${root}/ectoplasms/${domain}`, '__init__');
    for (let s = random.between(1, 6); s > 0 && out.length < files; s -= 1) module(`${root}/ectoplasms/${domain}/services`, `${phrase(random, 2)}`);
  }
  return out.slice(0, files);
}

export interface IntegrationsLayout {
  drafts: Draft[];
  names: string[];
}

/**
 * About `quota` files of custom integrations: Spook, HACS with its frontend, one giant of ~22%
 * of them and one of ~10% when there is room, then integrations of a few dozen files each.
 */
export function integrationsLayout(quota: number, random: Prng): IntegrationsLayout {
  const plans: IntegrationPlan[] = [];
  const big = quota >= 600;
  const spook = Math.max(24, Math.round(quota * 0.03));
  plans.push({ name: 'hacs', files: Math.max(30, Math.round(quota * (big ? 0.08 : 0.12))), bytecode: false, bulk: 'repositories', frontend: true });
  plans.push({ name: 'waste_collection_schedule', files: Math.max(20, Math.round(quota * (big ? 0.22 : 0.1))), bytecode: false, bulk: 'waste_collection_schedule/source', frontend: false });
  if (big) plans.push({ name: 'xiaomi_miot', files: Math.round(quota * 0.1), bytecode: true, bulk: 'core/devices', frontend: false });
  let used = spook + plans.reduce((sum, p) => sum + p.files, 0);
  for (let i = 3; used < quota; i += 1) {
    const name = i < NAMES.length ? NAMES[i]! : `${phrase(random, 2)}_${i}`;
    if (plans.some((p) => p.name === name) || name === 'spook') continue;
    const files = Math.min(quota - used, Math.max(16, random.around(30)));
    // One in six commits its bytecode; the first small one always does, so every size has some.
    plans.push({ name, files, bytecode: plans.length === (big ? 3 : 2) || random.chance(16), bulk: random.pick(['helpers', 'devices', 'models']), frontend: name === 'browser_mod' });
    used += files;
  }
  const drafts = spookDrafts(spook, random);
  for (const plan of plans) drafts.push(...integrationDrafts(plan, random));
  return { drafts, names: ['spook', ...plans.map((p) => p.name)] };
}
