// Symlinks are judged by where the kernel will take them once the deploy has landed, through every
// link of the commit and of the host, not by their text. Examples through the planner (the
// refusal a homeowner reads), then a generated adversary: random trees of files, folders and
// links on both sides, materialised on a real filesystem, where every link the check accepts is
// followed with fs.realpath and must stay inside the config folder, away from protected data.
import { mkdir, mkdtemp, readdir, realpath, rm, stat, symlink as makeSymlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configRelativeTarget, LinkTree, refuseUnsafeLink } from '../../relay/pipeline/link-resolution.ts';
import type { FileEntry } from '../../relay/pipeline/manifest.ts';
import { planDeployment } from '../../relay/pipeline/plan.ts';
import { protectedPathMatcher } from '../../relay/pipeline/protected-paths.ts';
import { UNHASHED_FOLDERS } from '../../relay/pipeline/live-tree.ts';
import { globMatcher } from '../../relay/pipeline/path-safety.ts';
import { COMMIT_B, file, symlink } from '../support/file-entries.ts';

function planOf(commitFiles: FileEntry[], liveFiles: FileEntry[] = [], extra: { unhashedLivePaths?: string[]; configRoot?: string | string[] } = {}) {
  return planDeployment({ commitSha: COMMIT_B, commitFiles, liveFiles, previousManifest: null, driftPolicy: 'stop', deployedAt: 1, ...extra });
}

const refusalsOf = (plan: ReturnType<typeof planOf>) => plan.refused.map((r) => ({ path: r.path, problem: r.problem }));

describe('a link followed through the links of the commit and the host', () => {
  it('refuses www/x -> ../p/q/y/../.storage when p/q/y is a link two folders up, naming where it really leads and what to do', () => {
    const plan = planOf([symlink('p/q/y', '../../t'), symlink('www/x', '../p/q/y/../.storage'), file('configuration.yaml', 'x')]);
    expect(refusalsOf(plan)).toEqual([{ path: 'www/x', problem: 'symlink-to-protected' }]);
    expect(plan.refused[0]!.message).toBe(
      'www/x is a symlink to ../p/q/y/../.storage, which resolves to .storage, which is protected (following p/q/y → ../../t); ' +
        "fix: add `- 'www/x'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml) to leave it out of the deploy",
    );
    expect(plan.error?.message).toMatch(/^1 path in the commit cannot be deployed safely, so nothing was deployed\. www\/x is a symlink/);
  });

  it('refuses the same link when the two-folders-up link is already on the host', () => {
    const plan = planOf([symlink('www/x', '../p/q/y/../.storage')], [symlink('p/q/y', '../../t')]);
    expect(refusalsOf(plan)).toEqual([{ path: 'www/x', problem: 'symlink-to-protected' }]);
  });

  it('refuses a link through a host link that leaves the config folder', () => {
    const plan = planOf([symlink('www/song.mp3', '../media/song.mp3')], [symlink('media', '/media')]);
    expect(plan.refused[0]!.message).toMatch(/^www\/song\.mp3 is a symlink to \.\.\/media\/song\.mp3, which points outside the config folder \/config \(at \/media\) \(following media → \/media\)/);
  });

  it('refuses a link to a folder that holds a host link into protected data', () => {
    const plan = planOf([symlink('www/p', '../p')], [symlink('p/stor', '../.storage'), file('p/readme.txt', 'x')]);
    expect(plan.refused[0]!.message).toMatch(/^www\/p is a symlink to \.\.\/p, which resolves to p, a folder that holds the link p\/stor, which resolves to \.storage, which is protected;/);
  });

  it('refuses a link to a folder that holds a database the host listing does not hash', () => {
    const plan = planOf([symlink('www/zigbee', '../zigbee2mqtt')], [file('zigbee2mqtt/configuration.yaml', 'x')], { unhashedLivePaths: ['zigbee2mqtt/database.db'] });
    expect(plan.refused[0]!.message).toMatch(/a folder that holds zigbee2mqtt\/database\.db, which is protected/);
  });

  it('keeps a link to a custom integration\'s folder that holds its __pycache__/, and still refuses one to the bytecode itself', () => {
    const spook = [file('custom_components/spook/integrations/spook_inverse/__init__.py', ''), file('custom_components/spook/integrations/spook_inverse/__pycache__/__init__.cpython-312.pyc', 'bytecode')];
    expect(planOf([...spook, symlink('custom_components/spook_inverse', 'spook/integrations/spook_inverse')]).error).toBeNull();
    const plan = planOf([...spook, symlink('www/pyc', '../custom_components/spook/integrations/spook_inverse/__pycache__')]);
    expect(refusalsOf(plan)).toEqual([{ path: 'www/pyc', problem: 'symlink-to-protected' }]);
    // Secrets stay secrets: a folder that holds one is refused as before.
    expect(refusalsOf(planOf([file('esphome/secrets.yaml', 'x'), symlink('www/esphome', '../esphome')]))).toEqual([{ path: 'www/esphome', problem: 'symlink-to-protected' }]);
  });

  it('refuses a link that passes through protected data on its way back out', () => {
    const plan = planOf([symlink('www/c', '../.storage/../configuration.yaml')]);
    expect(plan.refused[0]!.message).toMatch(/which reaches \.storage, which is protected/);
  });

  it('refuses a loop after 40 links, as the kernel does', () => {
    const plan = planOf([symlink('a', 'b'), symlink('b', 'a'), symlink('www/x', '../a')]);
    expect(refusalsOf(plan)).toEqual([
      { path: 'a', problem: 'symlink-loop' },
      { path: 'b', problem: 'symlink-loop' },
      { path: 'www/x', problem: 'symlink-loop' },
    ]);
    expect(plan.refused[2]!.message).toMatch(/does not resolve: it needs more than 40 links in a row \(a loop\)/);
  });

  it('refuses a link to the config folder reached through another link', () => {
    const plan = planOf([symlink('www/up', '../media/..')], [symlink('media', 'www')]);
    // media -> www, so ../media/.. is the config folder's parent… of www: the root itself.
    expect(refusalsOf(plan)).toEqual([{ path: 'www/up', problem: 'symlink-to-root' }]);
  });

  it('deploys a chain of links that stays inside, and absolute links under the config folder', () => {
    const plan = planOf(
      [symlink('www/icons', '../media/icons'), symlink('www/logo.svg', 'icons/house.svg'), symlink('www/plan.svg', '/config/floorplan/ground.svg'), file('floorplan/ground.svg', '<svg/>')],
      [file('media/icons/house.svg', '<svg/>')],
    );
    expect(plan.error).toBeNull();
    expect(plan.toWrite.map((f) => f.path)).toEqual(['floorplan/ground.svg', 'www/icons', 'www/logo.svg', 'www/plan.svg']);
  });

  it('reads an absolute target against the configured config root, and refuses one that climbs out of it', () => {
    expect(planOf([symlink('a.yaml', '/homeassistant/b.yaml')], [], { configRoot: '/homeassistant' }).error).toBeNull();
    expect(refusalsOf(planOf([symlink('a', '/config/../etc/x')]))).toEqual([{ path: 'a', problem: 'symlink-escapes' }]);
    expect(refusalsOf(planOf([symlink('a', '/configuration/x')]))).toEqual([{ path: 'a', problem: 'symlink-escapes' }]);
  });

  it('turns an absolute target into a config-relative path in one place', () => {
    expect(configRelativeTarget('/config/www/a.svg', '/config/')).toBe('www/a.svg');
    expect(configRelativeTarget('//config/./www/../b', '/config')).toBe('www/../b');
    expect(configRelativeTarget('/config', '/config')).toBe('');
    expect(configRelativeTarget('/configuration/x', '/config')).toBeNull();
    expect(configRelativeTarget('/etc/passwd', '/config')).toBeNull();
  });

  it('maps Home Assistant\'s own paths onto the folder the relay reaches, whichever one a link names', () => {
    const roots = ['/srv/homeassistant/config', '/config', '/homeassistant'];
    expect(configRelativeTarget('/config/custom_components/spook/integrations/spook_inverse', roots)).toBe('custom_components/spook/integrations/spook_inverse');
    expect(configRelativeTarget('/homeassistant/esphome/common/network.yaml', roots)).toBe('esphome/common/network.yaml');
    expect(configRelativeTarget('/srv/homeassistant/config/www/a.svg', roots)).toBe('www/a.svg');
    expect(configRelativeTarget('/srv/homeassistant/other/a.svg', roots)).toBeNull();
    expect(configRelativeTarget('/homeassistant/x', ['/srv/homeassistant/config', '/config'])).toBeNull();
    // The longest path that matches is the folder: /config/www is not "www" under /config here.
    expect(configRelativeTarget('/config/www/a.svg', ['/data', '/config', '/config/www'])).toBe('a.svg');
  });

  it('deploys a /config link on a host whose folder is elsewhere, and refuses one that climbs out of /config', () => {
    const roots = ['/srv/homeassistant/config', '/config'];
    const ok = planOf([symlink('custom_components/spook_inverse', '/config/custom_components/spook/integrations/spook_inverse'), file('custom_components/spook/integrations/spook_inverse/__init__.py', '')], [], { configRoot: roots });
    expect(ok.error).toBeNull();
    expect(ok.toWrite.find((f) => f.path === 'custom_components/spook_inverse')?.linkTarget).toBe('/config/custom_components/spook/integrations/spook_inverse');
    expect(refusalsOf(planOf([symlink('a', '/config/../srv/homeassistant/config/b')], [], { configRoot: roots }))).toEqual([{ path: 'a', problem: 'symlink-escapes' }]);
    expect(refusalsOf(planOf([symlink('a', '/config/../config/secrets.yaml')], [], { configRoot: roots }))).toEqual([{ path: 'a', problem: 'symlink-escapes' }]);
  });
});

// ---- the generated adversary ----

const FOLDERS = ['a', 'b', 'www', 'esphome', '.storage', 'private', '__pycache__'] as const;
const LEAVES = ['f', 'g', 'secrets.yaml', 'z.db'] as const;
const STEPS = ['..', '.', '', ...FOLDERS, ...LEAVES] as const;
const EXTRA_PROTECT = ['private/**'];
const protection = protectedPathMatcher(EXTRA_PROTECT);
const isPruned = (path: string) => UNHASHED_FOLDERS.some((folder) => path === folder || path.startsWith(`${folder}/`));
const isUnhashedName = globMatcher(['**/*.db']);

interface Generated {
  path: string;
  kind: 'file' | 'link';
  /**
   * `@ROOT@` stands for the config folder's absolute path, `@OUT@` for a folder beside it, `@HA@`
   * for the path Home Assistant sees the folder at (a link to it here, as its container's mount is).
   */
  target: string;
}

const pathArb = fc
  .tuple(fc.array(fc.constantFrom(...FOLDERS), { maxLength: 2 }), fc.constantFrom(...FOLDERS, ...LEAVES))
  .map(([folders, leaf]) => [...folders, leaf].join('/'));
const relativeTarget = fc.array(fc.constantFrom(...STEPS), { minLength: 1, maxLength: 6 }).map((steps) => steps.join('/') || '.');
const targetArb = fc.oneof(
  { weight: 6, arbitrary: relativeTarget },
  { weight: 2, arbitrary: relativeTarget.map((t) => `@ROOT@/${t}`) },
  { weight: 3, arbitrary: relativeTarget.map((t) => `@HA@/${t}`) },
  { weight: 1, arbitrary: fc.constantFrom('@OUT@', '@OUT@/x', '@ROOT@/../out/x', '@ROOT@', '@HA@', '@HA@/../../out/x', '@HA@/../config/www', '/etc') },
);
const entryArb = fc.record({ path: pathArb, kind: fc.constantFrom('file' as const, 'link' as const), target: targetArb });
const sideArb = fc.uniqueArray(entryArb, { maxLength: 10, selector: (e) => e.path });

/** Host first, then the commit replacing it at its paths; an entry beneath another entry is dropped (one name cannot be both). */
function landed(host: readonly Generated[], commit: readonly Generated[]): { entries: Map<string, Generated & { side: 'host' | 'commit' }> } {
  const byPath = new Map<string, Generated & { side: 'host' | 'commit' }>();
  for (const entry of host) byPath.set(entry.path, { ...entry, side: 'host' });
  // A commit never deploys a protected path: such entries stay in the repository.
  for (const entry of commit) if (!protection(entry.path)) byPath.set(entry.path, { ...entry, side: 'commit' });
  const entries = new Map<string, Generated & { side: 'host' | 'commit' }>();
  for (const path of [...byPath.keys()].sort((x, y) => x.split('/').length - y.split('/').length || (x < y ? -1 : 1))) {
    const parts = path.split('/');
    const underAnother = parts.slice(0, -1).some((_, i) => entries.has(parts.slice(0, i + 1).join('/')));
    if (!underAnother) entries.set(path, byPath.get(path)!);
  }
  return { entries };
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lanyard-links-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * The protected or outside places reachable from `start` on the real filesystem, following links, a
 * few folders deep: where it lands must not be protected at all; below it, nothing secret (a
 * folder's `__pycache__/` is no secret).
 */
async function unsafeReachable(root: string, start: string): Promise<string | null> {
  const seen = new Set<string>();
  const queue: { real: string; depth: number }[] = [{ real: start, depth: 0 }];
  while (queue.length) {
    const { real, depth } = queue.shift()!;
    if (seen.has(real)) continue;
    seen.add(real);
    if (real === root) return `${real} (the config folder itself)`;
    if (!real.startsWith(`${root}/`)) return `${real} (outside)`;
    const inside = relative(root, real);
    const protectedBy = protection(inside);
    if (protectedBy && (depth === 0 || protectedBy.secret)) return `${inside} (protected)`;
    if (depth >= 6 || !(await stat(real)).isDirectory()) continue;
    for (const name of await readdir(real)) {
      const next = await realpath(join(real, name)).catch(() => null);
      if (next !== null) queue.push({ real: next, depth: depth + 1 });
    }
  }
  return null;
}

describe('generated trees of files, folders and links on both sides', () => {
  it('every link the check accepts (relative, or absolute through the host\'s path or Home Assistant\'s) resolves, on a real filesystem, inside the config folder and away from protected data', async () => {
    let accepted = 0;
    let acceptedThroughHomeAssistant = 0;
    let refused = 0;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(sideArb, sideArb, async (host, commit) => {
        run += 1;
        const base = join(scratch, String(run));
        const root = join(base, 'config');
        const out = join(base, 'out');
        const homeAssistantView = join(base, 'ha', 'config');
        await mkdir(join(out, 'x'), { recursive: true });
        await mkdir(root, { recursive: true });
        await mkdir(dirname(homeAssistantView), { recursive: true });
        await makeSymlink(root, homeAssistantView);
        const real = (target: string) => target.replaceAll('@ROOT@', root).replaceAll('@OUT@', out).replaceAll('@HA@', homeAssistantView);
        const { entries } = landed(host, commit);
        for (const entry of entries.values()) {
          const full = join(root, entry.path);
          await mkdir(dirname(full), { recursive: true });
          if (entry.kind === 'file') await writeFile(full, entry.path);
          else await makeSymlink(real(entry.target), full);
        }
        // What the relay sees: the host's listing skips the pruned folders and lists databases unhashed.
        const listed = [...entries.values()].filter((e) => e.side === 'host' && !isPruned(e.path));
        const asEntry = (e: Generated) => (e.kind === 'link' ? symlink(e.path, real(e.target)) : file(e.path, e.path));
        const hostEntries = listed.filter((e) => e.kind === 'link' || !isUnhashedName(e.path)).map(asEntry);
        const unhashed = listed.filter((e) => e.kind === 'file' && isUnhashedName(e.path)).map((e) => e.path);
        const commitEntries = [...entries.values()].filter((e) => e.side === 'commit').map(asEntry);
        const tree = new LinkTree(hostEntries, commitEntries);
        const known = [...hostEntries.map((e) => e.path), ...unhashed, ...commitEntries.map((e) => e.path)];
        for (const link of commitEntries.filter((e) => e.type === 'symlink')) {
          const verdict = refuseUnsafeLink(tree, link.path, [root, homeAssistantView], protection, known);
          if (verdict) {
            refused += 1;
            continue;
          }
          accepted += 1;
          if (link.linkTarget?.startsWith(homeAssistantView)) acceptedThroughHomeAssistant += 1;
          const landing = await realpath(join(root, link.path)).catch(() => null);
          // A link that leads nowhere (a missing name, a file used as a folder) reads nothing.
          if (landing === null) continue;
          const unsafe = await unsafeReachable(root, landing);
          expect(unsafe, `${link.path} -> ${link.linkTarget} was accepted but reaches ${unsafe}; tree: ${JSON.stringify([...entries.values()])}`).toBeNull();
        }
        await rm(base, { recursive: true, force: true });
      }),
      { numRuns: 300 },
    );
    console.info(`links judged: ${accepted} accepted (${acceptedThroughHomeAssistant} written as Home Assistant sees the folder), ${refused} refused`);
    // Not a vacuous pass: the generator makes links of both verdicts. The seed changes every run
    // and 300 runs accept 37 to 77 links, so the floor sits well below that, not at its middle.
    expect(accepted).toBeGreaterThan(15);
    expect(refused).toBeGreaterThan(15);
    expect(acceptedThroughHomeAssistant).toBeGreaterThan(0);
  });
});
