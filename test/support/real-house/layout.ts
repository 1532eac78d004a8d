// The plan of a whole house for a given number of files and bytes: which paths exist, of what
// kind, how big. The file count is met exactly (the house's own media take up the remainder);
// the byte total closely: hand-kept YAML keeps its natural size, the multi-MB files theirs, and
// the three bulky parts (custom integrations, HACS cards, media) share the rest in the
// proportions of real houses.
import { contentOf, SELF_SIZED } from './content.ts';
import { posix } from 'node:path';
import type { ContentKind, Draft, HostFile, HouseFacts, TreeEntry, TreeFile, TreeLink } from './entries.ts';
import { cardsLayout, mediaLayout } from './layout-frontend.ts';
import {
  HEAVY_PATHS,
  LINKS,
  ODD_NAMES,
  SECRET_NAMES,
  automationFolderDrafts,
  blueprintDrafts,
  dashboardDrafts,
  esphomeDrafts,
  packagesDrafts,
  pythonScriptDrafts,
  rootDrafts,
  scriptDrafts,
  themeDrafts,
} from './layout-config.ts';
import { hostLayout } from './layout-host.ts';
import { integrationsLayout } from './layout-integrations.ts';
import { ESPHOME_SECRETS } from './esphome-yaml.ts';
import { Prng } from './random.ts';

export interface HouseLayout {
  repo: TreeEntry[];
  host: HostFile[];
  facts: HouseFacts;
}

/** Shares of the files left after the fixed ones; media take whatever remains (~11%). */
const FILE_SHARES = { integrations: 0.42, cards: 0.28, packages: 0.05, automations: 0.015, dashboards: 0.035, blueprints: 0.025, esphome: 0.03, themes: 0.015, pythonScripts: 0.004 };
/** How the bulky parts split the bytes the rest leaves. */
const BYTE_SHARES = { integrations: 0.17, cards: 0.42, media: 0.41 };

/** Below these a file could not hold its head and tail; text kinds are kept above them. */
const MINIMUM: Partial<Record<ContentKind, number>> = {
  python: 900, translation: 240, services: 700, package: 400, 'automation-list': 700, 'dashboard-view': 500, blueprint: 1_000,
  'esphome-device': 1_000, 'esphome-common': 300, theme: 160, customize: 200, 'source-map': 700, css: 240, svg: 240, shell: 400,
  markdown: 240, 'storage-json': 400, log: 240, 'esphome-build': 120,
};

function minimumOf(kind: ContentKind): number {
  return MINIMUM[kind] ?? 64;
}

function sizeWith(draft: Draft, scale: number): number {
  return Math.max(minimumOf(draft.content), Math.round(draft.natural * scale));
}

/** The same link written relative to its own folder: what an owner commits instead of a `/config/...` one. */
function relativeOf(link: TreeLink): TreeLink {
  return { ...link, target: posix.relative(posix.dirname(link.path), link.reaches), absolute: false };
}

/**
 * `absoluteLinks: false` writes the `/config/...` and `/homeassistant/...` links relative instead
 * (same paths, same count), for runs that must not meet that wall.
 */
export function planHouse(files: number, totalBytes: number, seed: string, options: { absoluteLinks?: boolean } = {}): HouseLayout {
  const random = new Prng('real-house-layout', files, totalBytes);
  const roots = rootDrafts(totalBytes);
  const executables = Math.max(3, Math.round(files / 800));
  const left = files - roots.length - LINKS.length - ODD_NAMES.length - executables;
  if (left < 100) throw new Error(`a real house needs at least ${files - left + 100} files; ${files} were asked for`);
  const quota = (share: number) => Math.round(left * share);

  const integrations = integrationsLayout(quota(FILE_SHARES.integrations), random);
  const cards = cardsLayout(quota(FILE_SHARES.cards), files, random);
  const dashboards = dashboardDrafts(quota(FILE_SHARES.dashboards), random);
  const scripts = scriptDrafts(executables, random);
  const small: Draft[] = [
    ...roots.filter((d) => !HEAVY_PATHS.has(d.path)),
    ...ODD_NAMES.filter((d) => !d.path.startsWith('www/')),
    ...packagesDrafts(quota(FILE_SHARES.packages), random),
    ...automationFolderDrafts(quota(FILE_SHARES.automations), random),
    ...dashboards.drafts,
    ...blueprintDrafts(quota(FILE_SHARES.blueprints), random),
    ...esphomeDrafts(quota(FILE_SHARES.esphome), random),
    ...themeDrafts(quota(FILE_SHARES.themes), random),
    ...pythonScriptDrafts(quota(FILE_SHARES.pythonScripts), random),
    ...scripts.drafts,
  ];
  const heavy = roots.filter((d) => HEAVY_PATHS.has(d.path));
  const oddMedia = ODD_NAMES.filter((d) => d.path.startsWith('www/'));
  const planned = small.length + heavy.length + oddMedia.length + integrations.drafts.length + cards.drafts.length + LINKS.length;
  const media = [...oddMedia, ...mediaLayout(files - planned, random)];

  const automations = Math.max(8, Math.min(400, Math.round(files / 50)));
  const facts: HouseFacts = {
    secretNames: SECRET_NAMES,
    esphomeSecretNames: ESPHOME_SECRETS,
    dashboards: dashboards.dashboards,
    shellCommands: scripts.commands,
    automations,
    scripts: Math.ceil(automations / 3),
    scenes: Math.ceil(automations / 6),
    integrations: integrations.names,
    cards: cards.names,
  };

  const toFile = (draft: Draft, size: number): TreeFile => ({
    path: draft.path,
    kind: draft.executable ? 'executable' : 'file',
    content: draft.content,
    size,
    variant: 0,
    ...(draft.ownedByHost ? { ownedByHost: draft.ownedByHost } : {}),
  });
  const measured = (draft: Draft): number => contentOf({ path: draft.path, content: draft.content, size: 0, variant: 0 }, seed, facts).length;
  const fixedSize = (draft: Draft): number => (SELF_SIZED.has(draft.content) ? measured(draft) : sizeWith(draft, 1));

  const repo: TreeEntry[] = LINKS.map((link) => (options.absoluteLinks === false && link.absolute ? relativeOf(link) : link));
  let used = 0;
  for (const draft of [...small, ...heavy]) {
    const size = HEAVY_PATHS.has(draft.path) ? draft.natural : fixedSize(draft);
    repo.push(toFile(draft, size));
    used += size;
  }
  // The bulky parts share what is left, each scaled as a whole so its spread of sizes stays.
  const rest = Math.max(0, totalBytes - used);
  const bulky: [Draft[], number][] = [
    [integrations.drafts, BYTE_SHARES.integrations],
    [cards.drafts, BYTE_SHARES.cards],
    [media, BYTE_SHARES.media],
  ];
  for (const [drafts, share] of bulky) {
    const natural = drafts.reduce((sum, d) => sum + (SELF_SIZED.has(d.content) ? 0 : d.natural), 0);
    const scale = natural === 0 ? 1 : (rest * share) / natural;
    for (const draft of drafts) repo.push(toFile(draft, SELF_SIZED.has(draft.content) ? measured(draft) : sizeWith(draft, scale)));
  }
  repo.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  assertCoherent(repo, files);

  const host = hostLayout(repo, totalBytes, new Prng('real-house-host', files, totalBytes)).map((file) =>
    SELF_SIZED.has(file.content) ? { ...file, size: contentOf({ ...file, variant: 0 }, seed, facts).length } : { ...file, size: Math.max(minimumOf(file.content), file.size) },
  );
  host.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { repo, host, facts };
}

/** The layout's own promises: the asked count, unique paths, no file under a link, every link reaching a path of the tree. */
function assertCoherent(repo: readonly TreeEntry[], files: number): void {
  if (repo.length !== files) throw new Error(`the real-house layout planned ${repo.length} files, not ${files}`);
  const paths = new Set<string>();
  for (const entry of repo) {
    if (paths.has(entry.path)) throw new Error(`the real-house layout planned ${entry.path} twice`);
    paths.add(entry.path);
  }
  for (const link of repo) {
    if (link.kind !== 'symlink') continue;
    const under = repo.find((e) => e.path.startsWith(`${link.path}/`));
    if (under) throw new Error(`the real-house layout put ${under.path} under the link ${link.path}`);
    const reached = link.names === 'file' ? paths.has(link.reaches) : repo.some((e) => e.path.startsWith(`${link.reaches}/`));
    if (!reached) throw new Error(`the real-house link ${link.path} reaches ${link.reaches}, which the layout does not hold`);
  }
}
