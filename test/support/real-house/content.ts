// The bytes of one file of the real-house tree, from its path, kind, size and variant and the
// tree's seed: the same description always gives the same bytes, and nothing is generated until a
// file is written or read.
import { binaryBytes, pycBytes, sqliteShmBytes } from './binary.ts';
import { pythonText, cssText, javascriptText, manifestJson, shellText, sourceMapText, svgText, translationJson } from './code-text.ts';
import {
  automationListYaml,
  blueprintYaml,
  ciWorkflowYaml,
  configurationYaml,
  customizeYaml,
  dashboardViewYaml,
  dashboardYaml,
  gitignoreText,
  keyOf,
  markdownText,
  packageYaml,
  secretsPlaceholderYaml,
  servicesYaml,
  themeYaml,
  yamllintYaml,
} from './config-yaml.ts';
import type { ContentKind, HouseFacts } from './entries.ts';
import { esphomeBuildText, esphomeCommonYaml, esphomeDeviceYaml, esphomeSecretsPlaceholder, esphomeSecretsReal } from './esphome-yaml.ts';
import { ipBansYaml, knownDevicesYaml, logText, secretsYaml, storageJson } from './host-text.ts';
import { Prng } from './random.ts';
import { automationsYaml, scenesYaml, scriptsYaml } from './ui-yaml.ts';

/** What the bytes of a file depend on. */
export interface ContentRequest {
  path: string;
  content: ContentKind;
  size: number;
  variant: number;
}

/** The folder a custom integration's module belongs to, for its docstring: `custom_components/x/api/client.py` → `x`. */
function integrationOf(path: string): string {
  return path.split('/')[1] ?? 'custom';
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The dashboard a dashboards/<slug>.yaml file is. */
function dashboardOf(path: string, facts: HouseFacts): { slug: string; title: string } {
  return facts.dashboards.find((d) => d.file === path) ?? { slug: keyOf(path), title: keyOf(path) };
}

export function contentOf(file: ContentRequest, seed: string, facts: HouseFacts): Buffer {
  const random = new Prng(seed, file.path, file.variant);
  const { path, size } = file;
  const bytesSeed = [seed, path, file.variant] as const;
  switch (file.content) {
    case 'configuration':
      return configurationYaml(facts);
    case 'automations-ui':
      return automationsYaml(seed, facts.automations, file.variant);
    case 'scripts-ui':
      return scriptsYaml(seed, facts.scripts, file.variant);
    case 'scenes-ui':
      return scenesYaml(seed, facts.scenes, file.variant);
    case 'customize':
      return customizeYaml(size, random);
    case 'package':
      return packageYaml(path, size, facts, random);
    case 'automation-list':
      return automationListYaml(path, size, random);
    case 'dashboard': {
      const dashboard = dashboardOf(path, facts);
      return dashboardYaml(dashboard.slug, dashboard.title);
    }
    case 'dashboard-view':
      return dashboardViewYaml(path, size, random);
    case 'blueprint':
      return blueprintYaml(path, size, random);
    case 'esphome-device':
      return esphomeDeviceYaml(path, size, random);
    case 'esphome-common':
      return esphomeCommonYaml(size, random);
    case 'esphome-secrets-placeholder':
      return esphomeSecretsPlaceholder();
    case 'secrets-placeholder':
      return secretsPlaceholderYaml(facts);
    case 'theme':
      return themeYaml(path, size, random);
    case 'services':
      return servicesYaml(size, random);
    case 'yamllint':
      return yamllintYaml();
    case 'ci-workflow':
      return ciWorkflowYaml();
    case 'python':
      return pythonText(integrationOf(path), size, random);
    case 'manifest':
      return manifestJson(integrationOf(path), random);
    case 'translation':
      return translationJson(size, random);
    case 'javascript':
      return javascriptText(nameOf(path), size, random);
    case 'source-map':
      return sourceMapText(nameOf(path).replace(/\.map$/, ''), size, random);
    case 'css':
      return cssText(size, random);
    case 'shell':
      return shellText(size, random);
    case 'markdown':
      return markdownText(size, random);
    case 'svg':
      return svgText(size, random);
    case 'gitignore':
      return gitignoreText();
    case 'empty':
      return Buffer.alloc(0);
    case 'pyc':
      return pycBytes(size, pythonText(integrationOf(path), Math.max(900, Math.ceil((size * 2) / 3)), random), ...bytesSeed);
    case 'gzip':
    case 'png':
    case 'jpeg':
    case 'mp3':
    case 'tflite':
    case 'font':
    case 'firmware':
    case 'sqlite':
    case 'sqlite-wal':
    case 'backup-tar':
      return binaryBytes(file.content, size, ...bytesSeed);
    case 'sqlite-shm':
      return sqliteShmBytes(size, ...bytesSeed);
    case 'secrets':
      return secretsYaml(facts, random);
    case 'esphome-secrets':
      return esphomeSecretsReal(random);
    case 'storage-json':
      return storageJson(nameOf(path), size, random);
    case 'log':
      return logText(size, random);
    case 'ha-version':
      return Buffer.from('2026.11.3');
    case 'uuid':
      return Buffer.from(`${random.next().toString(16).padStart(8, '0')}${random.next().toString(16).padStart(8, '0')}${random.next().toString(16).padStart(8, '0')}${random.next().toString(16).padStart(8, '0')}\n`);
    case 'ip-bans':
      return ipBansYaml();
    case 'known-devices':
      return knownDevicesYaml(random);
    case 'run-lock':
      return Buffer.from('{"pid": 67, "version": 1, "ha_version": "2026.11.3", "start_ts": 1795500000.0}');
    case 'esphome-build':
      return esphomeBuildText(size, random);
    default: {
      const unknown: never = file.content;
      throw new Error(`no content for kind ${String(unknown)}`);
    }
  }
}

/** Kinds whose size their records decide (the layout measures them); every other kind fills the size it is given. */
export const SELF_SIZED: ReadonlySet<ContentKind> = new Set<ContentKind>([
  'configuration',
  'automations-ui',
  'scripts-ui',
  'scenes-ui',
  'dashboard',
  'esphome-secrets-placeholder',
  'secrets-placeholder',
  'yamllint',
  'ci-workflow',
  'manifest',
  'gitignore',
  'empty',
  'secrets',
  'esphome-secrets',
  'ha-version',
  'uuid',
  'ip-bans',
  'known-devices',
  'run-lock',
]);
