// Decides how Home Assistant must pick up a deploy: nothing, a reload of the domains whose files
// changed, or a restart. The map from file to need is data (ACTIVATION_RULES, first match wins),
// so the docs can list it and a test can check every reload it names is one HA offers. When in
// doubt it restarts: a needless restart costs a minute of downtime; a missing one leaves the house
// running the old configuration while the status page says "deployed".
//
// Precedence: the repository's lanyard.yaml `activation` overrides, then (for configuration.yaml,
// when both versions of its text are given) a comparison of its top-level keys, then the map.
// Any restart wins over every reload.
import { parseDocument, type ScalarTag } from 'yaml';
import type { Activation } from '../../shared/deployment.ts';
import { RELOAD_SERVICES } from '../home-assistant/reload-services.ts';
import { globMatcher } from './path-safety.ts';

export type ActivationNeed = { kind: 'none' } | { kind: 'reload'; domains: readonly string[] } | { kind: 'restart' };

/** How lanyard.yaml spells a need: `none`, `restart`, or `reload:<domain>[,<domain>…]`. */
export type ActivationOverride = 'none' | 'restart' | `reload:${string}`;
/** Glob → need, in the order written; the first glob that matches a path decides it. */
export type ActivationOverrides = Readonly<Record<string, ActivationOverride>>;

export interface ActivationRule {
  globs: readonly string[];
  need: ActivationNeed;
  /** Shown to the user as the reason for the reload or restart. */
  why: string;
}

export interface ActivationReason {
  path: string;
  /** `none`, `restart`, or `reload:<domain>[,<domain>…]`. */
  need: string;
  why: string;
}

export interface ActivationDecision {
  activation: Activation;
  /** The domains to reload, in a safe order; empty when restarting (a restart covers them). */
  reloadDomains: string[];
  /** One entry per changed or deleted path: what it needs and why. */
  reasons: ActivationReason[];
}

/** Optional file contents that let the decision be finer than the path alone allows. */
export interface ActivationTexts {
  /** configuration.yaml before and after the deploy (null: absent). */
  configurationYaml?: { before: string | null; after: string | null };
}

/** Domains Home Assistant can reload without a restart: the ones the relay's client can call. */
export const RELOADABLE_DOMAINS: readonly string[] = Object.freeze(Object.keys(RELOAD_SERVICES));

const none: ActivationNeed = { kind: 'none' };
const restart: ActivationNeed = { kind: 'restart' };
const reload = (...domains: string[]): ActivationNeed => ({ kind: 'reload', domains });

// Conventional file and folder names for a domain's YAML: `timer.yaml`, `timers.yaml`, `timers/`…
function named(...stems: string[]): string[] {
  return stems.flatMap((stem) => [`${stem}.yaml`, `${stem}.yml`, `${stem}/**`]);
}

const INPUT_HELPERS = ['input_boolean', 'input_button', 'input_datetime', 'input_number', 'input_select', 'input_text'] as const;

export const ACTIVATION_RULES: readonly ActivationRule[] = Object.freeze([
  // Files Home Assistant never reads.
  { globs: ['lanyard.yaml'], need: none, why: 'Lanyard\'s own instructions, not Home Assistant configuration' },
  { globs: ['**/*.md', '**/README*', '**/LICENSE*', '**/CHANGELOG*'], need: none, why: 'documentation' },
  { globs: ['.*', '.*/**'], need: none, why: 'repository tooling (git, CI, editor and linter settings); Home Assistant does not read hidden files' },
  { globs: ['**/*.{png,jpg,jpeg,gif,svg,webp,ico,bmp}'], need: none, why: 'an image, served or read as is' },
  { globs: ['www/**'], need: none, why: 'served as is under /local/; a browser refresh shows the change' },
  { globs: ['ui-lovelace.yaml', 'dashboards/**', 'lovelace/**'], need: none, why: 'a YAML dashboard is read when a browser loads it; refresh the browser' },
  { globs: ['esphome/**'], need: none, why: 'ESPHome\'s device configs, compiled and flashed by ESPHome, not read by Home Assistant' },
  { globs: ['zigbee2mqtt/**'], need: none, why: 'Zigbee2MQTT\'s own configuration; restart the Zigbee2MQTT add-on to apply it' },
  { globs: ['appdaemon/**'], need: none, why: 'AppDaemon\'s apps, which AppDaemon reloads itself' },

  // Start-up only.
  { globs: ['configuration.yaml'], need: restart, why: 'configuration.yaml sets up integrations at start-up; a reload cannot be shown to be enough without comparing its keys' },
  { globs: ['packages/**'], need: restart, why: 'a package can hold any integration\'s keys, and packages are merged at start-up' },
  { globs: ['custom_components/**'], need: restart, why: 'custom integrations are Python code loaded at start-up' },
  { globs: ['custom_templates/**'], need: restart, why: 'template macros are loaded at start-up' },
  { globs: ['python_scripts/**'], need: restart, why: 'python_script registers its scripts at start-up' },

  // Blueprints are read when the automations, scripts or templates using them are reloaded.
  { globs: ['blueprints/automation/**'], need: reload('automation'), why: 'an automation blueprint; automations using it pick it up on reload' },
  { globs: ['blueprints/script/**'], need: reload('script'), why: 'a script blueprint; scripts using it pick it up on reload' },
  { globs: ['blueprints/template/**'], need: reload('template'), why: 'a template blueprint; templates using it pick it up on reload' },
  { globs: ['blueprints/**'], need: reload('automation', 'script'), why: 'a blueprint; automations and scripts pick it up on reload' },

  // One domain each, by the names people give these files.
  { globs: named('automations', 'automation'), need: reload('automation'), why: 'automations reload without a restart' },
  { globs: named('scripts', 'script'), need: reload('script'), why: 'scripts reload without a restart' },
  { globs: named('scenes', 'scene'), need: reload('scene'), why: 'scenes reload without a restart' },
  { globs: named('groups', 'group'), need: reload('group'), why: 'groups reload without a restart' },
  { globs: named('customize'), need: reload('homeassistant'), why: 'customize is part of the core configuration, which reloads (reload_core_config)' },
  { globs: named('templates', 'template'), need: reload('template'), why: 'template entities reload without a restart' },
  ...INPUT_HELPERS.map((domain) => ({ globs: named(`${domain}s`, domain), need: reload(domain), why: `${domain} helpers reload without a restart` })),
  { globs: named('timers', 'timer'), need: reload('timer'), why: 'timers reload without a restart' },
  { globs: named('counters', 'counter'), need: reload('counter'), why: 'counters reload without a restart' },
  { globs: named('schedules', 'schedule'), need: reload('schedule'), why: 'schedules reload without a restart' },
  { globs: named('persons', 'person', 'people'), need: reload('person'), why: 'persons reload without a restart' },
  { globs: named('zones', 'zone'), need: reload('zone'), why: 'zones reload without a restart' },
  { globs: named('intent_scripts', 'intent_script'), need: reload('intent_script'), why: 'intent scripts reload without a restart' },
  { globs: named('rest_commands', 'rest_command'), need: reload('rest_command'), why: 'REST commands reload without a restart' },
  { globs: named('command_line'), need: reload('command_line'), why: 'command_line entities reload without a restart' },
  { globs: named('mqtt'), need: reload('mqtt'), why: 'MQTT entities configured in YAML reload without a restart' },
  { globs: ['themes/**'], need: reload('frontend'), why: 'themes reload without a restart (frontend.reload_themes)' },

  // Anything else.
  {
    globs: ['**/*.yaml', '**/*.yml'],
    need: restart,
    why: 'a YAML file Lanyard does not recognise is most likely included from configuration.yaml under a key only read at start-up',
  },
  { globs: ['**'], need: none, why: 'not YAML: Home Assistant reads it when it is used, not at start-up' },
]);

/**
 * The order reloads run in: what others refer to first (core config, helpers, template and
 * platform entities), then groups and scenes, then scripts and automations that use them all.
 */
const RELOAD_ORDER = [
  'homeassistant',
  ...INPUT_HELPERS,
  'timer',
  'counter',
  'schedule',
  'person',
  'zone',
  'template',
  'rest',
  'command_line',
  'mqtt',
  'rest_command',
  'intent_script',
  'group',
  'scene',
  'script',
  'automation',
  'frontend',
];

const compiledRules = ACTIVATION_RULES.map((rule) => ({ rule, matches: globMatcher(rule.globs) }));

const OVERRIDE_FORM = /^(none|restart|reload:([a-z_][a-z0-9_]*)(\s*,\s*[a-z_][a-z0-9_]*)*)$/;

/** Reads an override (`none`, `restart`, `reload:automation,script`); a string says what is wrong. */
export function parseActivationOverride(text: string): ActivationNeed | string {
  const trimmed = text.trim();
  if (!OVERRIDE_FORM.test(trimmed)) return `"${text}" is not a need: write none, restart, or reload:<domain> (several domains separated by commas)`;
  if (trimmed === 'none') return none;
  if (trimmed === 'restart') return restart;
  const domains = [...new Set(trimmed.slice('reload:'.length).split(',').map((d) => d.trim()))];
  const unknown = domains.filter((d) => !RELOADABLE_DOMAINS.includes(d));
  if (unknown.length) {
    return `Home Assistant cannot reload ${unknown.join(', ')} without a restart; reloadable domains are ${RELOADABLE_DOMAINS.join(', ')} (or write restart)`;
  }
  return reload(...domains);
}

/** A need as lanyard.yaml and the reasons spell it. */
export function formatNeed(need: ActivationNeed): string {
  return need.kind === 'reload' ? `reload:${need.domains.join(',')}` : need.kind;
}

/** The built-in need of one path (relative to the config root), and why. */
export function builtInNeed(path: string): { need: ActivationNeed; why: string } {
  for (const { rule, matches } of compiledRules) {
    if (matches(path)) return { need: rule.need, why: rule.why };
  }
  return { need: restart, why: 'no rule matched; restarting to be safe' };
}

// ---- configuration.yaml: which top-level keys changed ----

// HA's YAML tags, read as markers: `!include a.yaml` and `!include b.yaml` must compare unequal,
// and neither must fail the parse.
const HA_TAGS: ScalarTag[] = ['!include', '!include_dir_list', '!include_dir_named', '!include_dir_merge_list', '!include_dir_merge_named', '!secret', '!env_var', '!input'].map(
  (tag) => ({ tag, resolve: (value: string) => ({ [tag]: value }) }),
);

/** Keys under `homeassistant:` that reload_core_config applies; any other (packages!) needs a restart. */
const CORE_RELOADABLE_KEYS = new Set([
  'name',
  'latitude',
  'longitude',
  'elevation',
  'radius',
  'unit_system',
  'temperature_unit',
  'time_zone',
  'currency',
  'country',
  'language',
  'external_url',
  'internal_url',
  'customize',
  'customize_domain',
  'customize_glob',
]);

/** Top-level keys whose whole YAML section a `<domain>.reload` re-reads. */
const KEY_RELOADABLE_DOMAINS = new Set(RELOADABLE_DOMAINS.filter((d) => d !== 'homeassistant' && d !== 'frontend'));

function readTopLevel(text: string): Map<string, string> | null {
  // YAML 1.1, as Home Assistant reads it (so `on` and `yes` are booleans on both sides).
  const doc = parseDocument(text, { version: '1.1', customTags: HA_TAGS, uniqueKeys: true });
  if (doc.errors.length) return null;
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (value === null || value === undefined) return new Map();
  if (typeof value !== 'object' || Array.isArray(value)) return null;
  return new Map(Object.entries(value as Record<string, unknown>).map(([key, v]) => [key, JSON.stringify(v) ?? 'null']));
}

function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key)).sort();
}

/**
 * The top-level keys of configuration.yaml whose value changed (added, removed or edited),
 * ignoring comments and formatting; null when either text is not a YAML mapping.
 */
export function changedTopLevelKeys(before: string, after: string): string[] | null {
  const old = readTopLevel(before);
  const now = readTopLevel(after);
  return old && now ? changedKeys(old, now) : null;
}

function configurationNeed(before: string | null, after: string | null): { need: ActivationNeed; why: string } | null {
  if (before === null || after === null) return null;
  const old = readTopLevel(before);
  const now = readTopLevel(after);
  if (!old || !now) return null;
  const keys = changedKeys(old, now);
  if (keys.length === 0) return { need: none, why: 'configuration.yaml: only comments or formatting changed' };
  const domains: string[] = [];
  for (const key of keys) {
    // `automation manual:` and `automation 2:` are more sections of the `automation` domain.
    const domain = key.split(/\s+/)[0] ?? key;
    if (domain === 'homeassistant') {
      const subBefore = readSection(old.get(key));
      const subAfter = readSection(now.get(key));
      const subKeys = subBefore && subAfter ? changedKeys(subBefore, subAfter) : null;
      if (!subKeys || subKeys.some((k) => !CORE_RELOADABLE_KEYS.has(k))) {
        return { need: restart, why: `configuration.yaml: homeassistant: ${subKeys ? subKeys.filter((k) => !CORE_RELOADABLE_KEYS.has(k)).join(', ') : 'section'} changed, which only a restart applies` };
      }
      domains.push('homeassistant');
    } else if (KEY_RELOADABLE_DOMAINS.has(domain)) {
      domains.push(domain);
    } else {
      return { need: restart, why: `configuration.yaml: ${key} changed, which only a restart applies` };
    }
  }
  const unique = [...new Set(domains)];
  return { need: reload(...unique), why: `configuration.yaml: only ${keys.join(', ')} changed, which reload${keys.length === 1 ? 's' : ''} without a restart` };
}

function readSection(json: string | undefined): Map<string, string> | null {
  if (json === undefined) return new Map();
  const value: unknown = JSON.parse(json);
  if (value === null) return new Map();
  if (typeof value !== 'object' || Array.isArray(value)) return null;
  return new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, JSON.stringify(v) ?? 'null']));
}

// ---- the decision ----

function orderDomains(domains: Iterable<string>): string[] {
  const rank = (d: string) => {
    const i = RELOAD_ORDER.indexOf(d);
    return i === -1 ? RELOAD_ORDER.length : i;
  };
  return [...new Set(domains)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * What the changed and deleted paths (relative to the config root) need, each with its reason.
 * `overrides` come from lanyard.yaml; `texts` optionally give configuration.yaml's old and new
 * text so that a change limited to reloadable sections reloads instead of restarting.
 */
export function decideActivation(
  changedPaths: readonly string[],
  deletedPaths: readonly string[] = [],
  overrides: ActivationOverrides = {},
  texts: ActivationTexts = {},
): ActivationDecision {
  const overrideRules = Object.entries(overrides).map(([glob, text]) => ({ glob, text, matches: globMatcher([glob]), need: parseActivationOverride(text) }));
  const reasons: ActivationReason[] = [];
  const domains = new Set<string>();
  let mustRestart = false;

  const decide = (path: string, deleted: boolean): { need: ActivationNeed; why: string } => {
    const override = overrideRules.find((o) => o.matches(path));
    if (override) {
      // A malformed override (lanyard.yaml is validated, so only a caller's bug) fails safe.
      if (typeof override.need === 'string') return { need: restart, why: `lanyard.yaml activation "${override.glob}": ${override.need}; restarting to be safe` };
      return { need: override.need, why: `lanyard.yaml activation "${override.glob}": ${override.text}` };
    }
    if (path === 'configuration.yaml' && !deleted && texts.configurationYaml) {
      const finer = configurationNeed(texts.configurationYaml.before, texts.configurationYaml.after);
      if (finer) return finer;
    }
    return builtInNeed(path);
  };

  const consider = (path: string, deleted: boolean) => {
    const { need, why } = decide(path, deleted);
    reasons.push({ path, need: formatNeed(need), why: deleted ? `deleted: ${why}` : why });
    if (need.kind === 'restart') mustRestart = true;
    else if (need.kind === 'reload') for (const d of need.domains) domains.add(d);
  };
  for (const path of changedPaths) consider(path, false);
  for (const path of deletedPaths) consider(path, true);

  // The reasons that decided the outcome come first, so a one-line summary can quote reasons[0].
  const weight = (need: string) => (need === 'restart' ? 0 : need === 'none' ? 2 : 1);
  reasons.sort((a, b) => weight(a.need) - weight(b.need));
  if (mustRestart) return { activation: 'restart', reloadDomains: [], reasons };
  if (domains.size) return { activation: 'reload', reloadDomains: orderDomains(domains), reasons };
  return { activation: 'none', reloadDomains: [], reasons };
}
