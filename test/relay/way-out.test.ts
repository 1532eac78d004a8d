// Every refusal of a path ends with what the owner can do about it, in one sentence of one shape:
// `<what is wrong>; fix: <what to do>`. For each kind: the exact sentence (the owner copies it), and
// then the fix applied as the owner would: the `exclude` line pasted into lanyard.yaml (and, the
// same line, into relay.yaml's deploy.exclude), the relative link committed, the file renamed;
// after which the commit deploys. A generated adversary checks that the exclude line for any
// deployable name is valid YAML, a valid lanyard.yaml glob, and leaves out that path and no other.
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DeployConfig } from '../../relay/config.ts';
import { parseLanyardFile } from '../../relay/pipeline/lanyard-file.ts';
import type { FileEntry } from '../../relay/pipeline/manifest.ts';
import { globMatcher, normaliseRepoPath, type PathRefused } from '../../relay/pipeline/path-safety.ts';
import { planDeployment, type PlanInput } from '../../relay/pipeline/plan.ts';
import { excludeLine, globOfPath } from '../../relay/pipeline/way-out.ts';
import { COMMIT_B, file, symlink } from '../support/file-entries.ts';

type Extra = Partial<Omit<PlanInput, 'commitFiles' | 'liveFiles'>>;

function planOf(commitFiles: FileEntry[], liveFiles: FileEntry[] = [], extra: Extra = {}) {
  return planDeployment({ commitSha: COMMIT_B, commitFiles, liveFiles, previousManifest: null, driftPolicy: 'stop', deployedAt: 1, ...extra });
}

function onlyRefusal(commitFiles: FileEntry[], liveFiles: FileEntry[] = [], extra: Extra = {}): PathRefused {
  const plan = planOf(commitFiles, liveFiles, extra);
  expect(plan.refused.map((r) => r.path)).toHaveLength(1);
  return plan.refused[0]!;
}

/** The YAML list items a fix tells the owner to add, as typed. */
function excludeLinesOf(message: string): string[] {
  return [...message.matchAll(/`(- '(?:[^']|'')*')`/g)].map((m) => m[1]!);
}

/** The fix pasted into lanyard.yaml and, separately, into relay.yaml: each must leave the refused paths out and deploy the rest. */
function expectExcludeFixDeploys(commitFiles: FileEntry[], liveFiles: FileEntry[], refusal: PathRefused, extra: Extra = {}): void {
  const lines = excludeLinesOf(refusal.message);
  expect(lines.length).toBeGreaterThan(0);
  const lanyard = parseLanyardFile(`version: 1\nexclude:\n${lines.map((line) => `  ${line}\n`).join('')}`);
  if (!lanyard.ok) throw lanyard.error;
  const relay = DeployConfig.parse((parseYaml(`deploy:\n  exclude:\n${lines.map((line) => `    ${line}\n`).join('')}`) as { deploy: unknown }).deploy);
  for (const exclude of [lanyard.value.exclude, relay.exclude]) {
    const fixed = planOf(commitFiles, liveFiles, { ...extra, exclude });
    expect(fixed.refused.map((r) => r.message)).toEqual([]);
    expect(fixed.excluded).toContain(refusal.path);
    expect(fixed.toWrite.length + fixed.unchanged.length).toBeGreaterThan(0);
  }
}

const EXCLUDE_WWW_X = "add `- 'www/x'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml) to leave it out of the deploy";
const REMAKE = 'git never writes such a tree, so the commit was crafted or made by a broken tool: make it again with git itself (`git fsck` names the broken entry); nothing in this one is deployed';
const CONFIG = file('configuration.yaml', 'default_config:\n');

describe('a refused link names its fix', () => {
  const ON_CONTAINER = { configRoot: ['/srv/homeassistant/config', '/config'] };

  it.each([
    ['a relative link out of the folder', symlink('www/x', '../../etc/passwd'), 'www/x is a symlink to ../../etc/passwd, which resolves outside the config folder /config'],
    ['an absolute link elsewhere', symlink('www/x', '/other/x'), 'www/x is a symlink to /other/x, which points outside the config folder /config'],
    ['a link to the config folder itself', symlink('www/x', '..'), 'www/x is a symlink to .., which resolves to the config folder itself, which would expose every file under it (secrets.yaml included)'],
    ['a link to protected data', symlink('www/x', '../.storage/auth'), 'www/x is a symlink to ../.storage/auth, which reaches .storage, which is protected'],
    ['a link with no target', symlink('www/x', ''), 'www/x is a symlink with no target; fix: point it at a file in the repository, or'],
  ])('%s: leave it out with the exact exclude line, which then deploys the rest', (_, link, what) => {
    const refusal = onlyRefusal([CONFIG, link]);
    expect(refusal.message.startsWith(what), refusal.message).toBe(true);
    expect(refusal.message.endsWith(`; fix: ${link.linkTarget === '' ? 'point it at a file in the repository, or ' : ''}${EXCLUDE_WWW_X}`), refusal.message).toBe(true);
    expectExcludeFixDeploys([CONFIG, link], [], refusal);
  });

  it.each([
    ['/config/../etc/passwd', 'www/x is a symlink to /config/../etc/passwd, which resolves outside the config folder /srv/homeassistant/config (/config inside Home Assistant\'s containers)'],
    ['/config/.storage/auth', 'www/x is a symlink to /config/.storage/auth, which reaches .storage, which is protected'],
    ['/config', 'www/x is a symlink to /config, which resolves to the config folder itself, which would expose every file under it (secrets.yaml included)'],
    ['/other/x', 'www/x is a symlink to /other/x, which points outside the config folder /srv/homeassistant/config (/config inside Home Assistant\'s containers)'],
  ])('a /config link that really leaves the folder or reaches protected data (%s) is refused on a Container install, with the exclude line', (target, what) => {
    const refusal = onlyRefusal([CONFIG, symlink('www/x', target)], [], ON_CONTAINER);
    expect(refusal.message).toBe(`${what}; fix: ${EXCLUDE_WWW_X}`);
    expectExcludeFixDeploys([CONFIG, symlink('www/x', target)], [], refusal, ON_CONTAINER);
  });

  it('an add-on\'s /homeassistant link on a Container install: commit the relative link it stands for, which then deploys to the same file', () => {
    const commit = [CONFIG, file('esphome/common/network.yaml', 'wifi:\n'), symlink('esphome/common/wifi.yaml', '/homeassistant/esphome/common/network.yaml')];
    const refusal = onlyRefusal(commit, [], ON_CONTAINER);
    expect(refusal.message).toBe(
      "esphome/common/wifi.yaml is a symlink to /homeassistant/esphome/common/network.yaml, which points outside the config folder /srv/homeassistant/config (/config inside Home Assistant's containers); " +
        "fix: commit the relative link `esphome/common/wifi.yaml -> network.yaml` instead, which leads to the same file, or add `- 'esphome/common/wifi.yaml'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml) to leave it out of the deploy",
    );
    const fixed = planOf([...commit.slice(0, 2), symlink('esphome/common/wifi.yaml', 'network.yaml')], [], ON_CONTAINER);
    expect(fixed.error).toBeNull();
    expect(fixed.toWrite.map((f) => f.path)).toContain('esphome/common/wifi.yaml');
    expectExcludeFixDeploys(commit, [], refusal, ON_CONTAINER);
  });

  it('a /config link on a Core install (no container, Home Assistant reads links on the host): the relative link, climbing out of its folder', () => {
    const commit = [CONFIG, symlink('custom_components/spook_inverse', '/config/custom_components/spook/integrations/spook_inverse'), file('custom_components/spook/integrations/spook_inverse/__init__.py', '')];
    const refusal = onlyRefusal(commit, [], { configRoot: ['/home/homeassistant/.homeassistant'] });
    expect(refusal.message).toBe(
      'custom_components/spook_inverse is a symlink to /config/custom_components/spook/integrations/spook_inverse, which points outside the config folder /home/homeassistant/.homeassistant; ' +
        "fix: commit the relative link `custom_components/spook_inverse -> spook/integrations/spook_inverse` instead, which leads to the same file, or add `- 'custom_components/spook_inverse'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml) to leave it out of the deploy",
    );
  });

  it('keeps ".." of an absolute link as written in the relative one, so it walks through the same links', () => {
    const commit = [CONFIG, symlink('media/current', 'library/2026'), file('media/library/2026/song.mp3', 'x'), symlink('www/song.mp3', '/homeassistant/media/current/../2026/song.mp3')];
    const refusal = onlyRefusal(commit, [], ON_CONTAINER);
    expect(refusal.message).toContain('fix: commit the relative link `www/song.mp3 -> ../media/current/../2026/song.mp3` instead');
    expect(planOf([...commit.slice(0, 3), symlink('www/song.mp3', '../media/current/../2026/song.mp3')], [], ON_CONTAINER).error).toBeNull();
  });

  it('escapes a link name full of glob characters, so that its exclude line leaves out that link and not its neighbour', () => {
    const link = symlink("www/[d]{,x}*'s.svg", '../../outside.svg');
    const sibling = file("www/d's.svg", '<svg/>');
    // Taken as a glob, the name itself would also match the neighbour.
    expect(globMatcher([link.path])(sibling.path)).toBe(true);
    const refusal = onlyRefusal([CONFIG, sibling, link]);
    expect(excludeLinesOf(refusal.message)).toEqual(["- 'www/\\[d\\]\\{,x\\}\\*''s.svg'"]);
    expectExcludeFixDeploys([CONFIG, sibling, link], [], refusal);
    const lanyard = parseLanyardFile(`version: 1\nexclude:\n  ${excludeLinesOf(refusal.message)[0]}\n`);
    if (!lanyard.ok) throw lanyard.error;
    expect(planOf([CONFIG, sibling, link], [], { exclude: lanyard.value.exclude }).toWrite.map((f) => f.path)).toEqual(['configuration.yaml', "www/d's.svg"]);
  });
});

describe('a refused name names its rename', () => {
  it.each([
    ['a control character', 'bad\nname.yaml', '"bad\\nname.yaml" contains a control character (such as a newline or NUL); fix: rename it in the repository without it, e.g. to `bad_name.yaml`'],
    ['bytes that are not UTF-8', 'caf\uFFFD.yaml', 'caf\uFFFD.yaml is not valid UTF-8 (the undecodable bytes show as \uFFFD), and Lanyard would write it under another name than git has; fix: rename it in the repository to a UTF-8 name, e.g. to `caf_.yaml`'],
    ['a backslash', 'www\\evil.js', 'www\\evil.js contains a backslash, which is "/" on Windows and part of the name on the host; fix: rename it in the repository with "/" between folders and no "\\" in a name, e.g. to `www_evil.js`'],
  ])('%s: the sentence, and the suggested name deploys', (_, name, message) => {
    const refusal = onlyRefusal([CONFIG, file(name, 'x')]);
    expect(refusal.message).toBe(message);
    const renamed = /e\.g\. to `([^`]+)`$/.exec(refusal.message)![1]!;
    expect(planOf([CONFIG, file(renamed, 'x')]).error).toBeNull();
  });

  it('a name over 255 bytes: a shorter one that keeps its extension, which deploys', () => {
    const name = `www/${'l'.repeat(300)}.yaml`;
    const refusal = onlyRefusal([CONFIG, file(name, 'x')]);
    expect(refusal.message).toBe(`${name.slice(0, 120)}… has a name of 305 bytes, and a file system takes at most 255; fix: rename it in the repository to names of at most 255 bytes, e.g. to \`www/${'l'.repeat(60)}.yaml\``);
    expect(planOf([CONFIG, file(`www/${'l'.repeat(60)}.yaml`, 'x')]).error).toBeNull();
  });

  it('a path over 3,840 bytes: shorter folder names', () => {
    const name = `${Array.from({ length: 20 }, () => 'f'.repeat(200)).join('/')}/a.yaml`;
    expect(onlyRefusal([CONFIG, file(name, 'x')]).message).toMatch(/ is 4026 bytes long, and Lanyard deploys paths of at most 3840 bytes \(the host limits a path to 4096, config folder included\); fix: rename it in the repository to a path of at most 3840 bytes \(shorter folder names\)$/);
  });

  it.each([
    ['".." in a name', file('www/../../x.yaml', 'x'), 'www/../../x.yaml leaves the deployed folder through "..", and Lanyard writes nothing outside the config folder'],
    ['an absolute name', file('/etc/x.yaml', 'x'), '/etc/x.yaml is an absolute path, and paths must be relative to the deployed folder'],
    ['an empty folder name', file('www//x.yaml', 'x'), 'www//x.yaml has an empty, "." or ".." folder name'],
    ['a name listed twice', file('configuration.yaml', 'other'), 'configuration.yaml is listed twice in the commit'],
    ['a file and a folder of one name', file('configuration.yaml/x', 'x'), 'configuration.yaml/x cannot be written: the commit also has a file configuration.yaml, and one name cannot be both'],
  ])('a tree git never writes (%s): make the commit again', (_, entry, what) => {
    expect(onlyRefusal([CONFIG, entry]).message).toBe(`${what}; fix: ${REMAKE}`);
  });

  it('a subfolder setting that leaves the repository: the setting to change', () => {
    expect(onlyRefusal([CONFIG], [], { subfolder: '../elsewhere' }).message).toBe(
      'the subfolder setting: ../elsewhere leaves the deployed folder through "..", and Lanyard writes nothing outside the config folder; ' +
        'fix: set git.subfolder in relay.yaml to a folder of the repository, relative to its root (such as `homeassistant`), or leave it empty',
    );
  });
});

describe('a file the host has in the way names what to change there, or the exclude line', () => {
  it('a host file or link where the commit has a folder: remove it on the host, or leave the folder out', () => {
    const commit = [CONFIG, file('media/song.mp3', 'x'), file('media/film.mp4', 'y')];
    const host = [symlink('media', '/media')];
    const plan = planOf(commit, host);
    expect(plan.refused.map((r) => r.message)).toEqual([
      "media/film.mp4 cannot be written: media is a symlink on the host, not a folder; fix: remove or rename media on the host, or add `- 'media/'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml) to leave it out of the deploy",
      "media/song.mp3 cannot be written: media is a symlink on the host, not a folder; fix: remove or rename media on the host, or add `- 'media/'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml) to leave it out of the deploy",
    ]);
    expectExcludeFixDeploys(commit, host, plan.refused[0]!);
  });

  it('a host folder where the commit has a file: remove it on the host, or leave the file out', () => {
    const commit = [CONFIG, file('www/gallery', 'x')];
    const host = [file('www/gallery/1.jpg', 'jpg')];
    const refusal = onlyRefusal(commit, host);
    expect(refusal.message).toBe(
      "www/gallery cannot be written: it is a folder on the host; fix: remove or rename the folder www/gallery on the host, or add `- 'www/gallery'` to `exclude:` in lanyard.yaml (or to `deploy.exclude` in relay.yaml) to leave it out of the deploy",
    );
    expectExcludeFixDeploys(commit, host, refusal);
  });
});

// ---- the generated adversary ----

const NAME_CHARACTERS = [...'aZ09._-', ' ', '*', '?', '[', ']', '{', '}', '(', ')', '!', '+', '@', '|', ',', "'", '"', '#', '&', '$', '^', '~', ':', '%', 'é', '日', '😀', '\u00a0', '\u2028', '\u3000'];
const nameArb = fc.array(fc.constantFrom(...NAME_CHARACTERS), { minLength: 1, maxLength: 8 }).map((chars) => chars.join(''));
const pathArb = fc
  .array(nameArb, { minLength: 1, maxLength: 3 })
  .map((names) => names.join('/'))
  .filter((path) => {
    try {
      return normaliseRepoPath(path) === path;
    } catch {
      return false;
    }
  });

describe('the exclude line of any deployable name', () => {
  it('is valid YAML and a valid lanyard.yaml glob, and leaves out that path and no other', () => {
    fc.assert(
      fc.property(pathArb, fc.array(pathArb, { maxLength: 6 }), (path, others) => {
        const line = excludeLine(globOfPath(path));
        const lanyard = parseLanyardFile(`version: 1\nexclude:\n  ${line}\n`);
        if (!lanyard.ok) throw lanyard.error;
        const matches = globMatcher(lanyard.value.exclude);
        expect(matches(path), `${line} must match ${JSON.stringify(path)}`).toBe(true);
        for (const other of [...others, `${path}x`, `x${path}`, `${path}/x`].filter((o) => o !== path)) expect(matches(other), `${line} must not match ${JSON.stringify(other)}`).toBe(false);
        // The folder form leaves out what is under the path, and nothing beside it.
        const folder = globMatcher([globOfPath(path, { folder: true })]);
        expect(folder(`${path}/a/b.yaml`)).toBe(true);
        expect(folder(`${path}x/a.yaml`)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
