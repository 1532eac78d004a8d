// The plan with merges: a file changed both by Home Assistant's UI and by the commit is not drift
// when its three-way merge is clean; it is written merged, recorded with the commit's hash, and
// named in `merged`. A conflict stays drift. Which files are tried at all: merge-candidates.ts.
import { describe, expect, it } from 'vitest';
import { mergeHaYaml } from '../../relay/merge/three-way-merge.ts';
import { checkCommit } from '../../relay/pipeline/commit-checks.ts';
import { DEFAULT_MERGE_FILES, mergeCandidates } from '../../relay/pipeline/merge-candidates.ts';
import { planOnHost, type HostInput } from '../../relay/pipeline/plan.ts';
import { COMMIT_B, file, files, manifestOf, sha256 } from '../support/file-entries.ts';

const BASE = '- id: hall\n  alias: Hall\n- id: porch\n  alias: Porch\n';
const UI_EDIT = "- id: hall\n  alias: Hall (UI)\n- id: porch\n  alias: Porch\n";
const COMMIT = '- id: hall\n  alias: Hall\n- id: porch\n  alias: Porch at night\n';
const DEPLOYED = { 'configuration.yaml': 'automation: !include automations.yaml\n', 'automations.yaml': BASE };

function planWith(host: string, commitText: string, options: Partial<HostInput> & { protect?: string[] } = {}) {
  const deployed = files(DEPLOYED);
  const commit = checkCommit({ commitFiles: files({ ...DEPLOYED, 'automations.yaml': commitText }), protect: options.protect });
  const input: HostInput = {
    commitSha: COMMIT_B,
    liveFiles: [...deployed.filter((f) => f.path !== 'automations.yaml'), file('automations.yaml', host)],
    previousManifest: manifestOf(deployed),
    driftPolicy: 'stop',
    ...options,
  };
  const first = planOnHost(commit, input);
  const candidates = mergeCandidates({ drift: first.drift, deploySet: commit.deploySet, previousManifest: input.previousManifest, mergeFiles: [...DEFAULT_MERGE_FILES], protection: commit.protection });
  const merges = new Map(candidates.map((path) => [path, mergeHaYaml({ base: BASE, theirs: host, ours: commitText })]));
  return { first, candidates, plan: planOnHost(commit, { ...input, merges }) };
}

describe('planning a merge', () => {
  it('writes a clean merge instead of stopping, recording the commit\'s hash so the host edit stays visible until captured', () => {
    const { first, candidates, plan } = planWith(UI_EDIT, COMMIT);
    expect(first.error?.code).toBe('DriftDetected');
    expect(candidates).toEqual(['automations.yaml']);
    expect(plan.error).toBeNull();
    expect(plan.drift).toEqual([]);
    expect(plan.merged).toEqual(['automations.yaml']);
    expect(plan.toWrite.map((f) => f.path)).toEqual(['automations.yaml']);
    expect(plan.mustBackup).toEqual(['automations.yaml']);
    expect(plan.manifest.files.find((f) => f.path === 'automations.yaml')!.sha256).toBe(sha256(COMMIT));
  });

  it('writes nothing when the host already holds the merge, and still names it merged', () => {
    const hostHasBoth = "- id: hall\n  alias: Hall (UI)\n- id: porch\n  alias: Porch at night\n";
    const { plan } = planWith(hostHasBoth, COMMIT);
    expect(plan.error).toBeNull();
    expect(plan.toWrite).toEqual([]);
    expect(plan.merged).toEqual(['automations.yaml']);
    expect(plan.manifest.files.find((f) => f.path === 'automations.yaml')!.sha256).toBe(sha256(COMMIT));
  });

  it('stops on drift when the same automation changed on both sides, keeping the conflict for the message', () => {
    const { plan } = planWith(UI_EDIT, COMMIT.replace('alias: Hall\n', 'alias: Hall (git)\n'));
    expect(plan.error?.code).toBe('DriftDetected');
    expect(plan.drift.map((d) => d.path)).toEqual(['automations.yaml']);
    expect(plan.merged).toEqual([]);
    expect(plan.mergeConflicts).toMatchObject([{ path: 'automations.yaml', conflicts: [{ id: 'hall' }] }]);
  });

  it('lets a push that left the file as it was go on, keeping the host\'s edit and naming it merged (to be captured)', () => {
    const { first, candidates, plan } = planWith(UI_EDIT, BASE);
    expect(first.error?.code).toBe('DriftDetected');
    expect(candidates).toEqual(['automations.yaml']);
    expect(plan.error).toBeNull();
    expect(plan.toWrite).toEqual([]);
    expect(plan.merged).toEqual(['automations.yaml']);
    expect(plan.manifest.files.find((f) => f.path === 'automations.yaml')!.sha256).toBe(sha256(BASE));
  });

  it('never merges a protected path, whatever deploy.mergeFiles says', () => {
    const { candidates } = planWith(UI_EDIT, COMMIT, { protect: ['automations.yaml'] });
    expect(candidates).toEqual([]);
  });

  it('merges only where the deploy would stop: overwrite and report-only keep their meaning', () => {
    expect(planWith(UI_EDIT, COMMIT, { driftPolicy: 'overwrite' }).plan.merged).toEqual([]);
    expect(planWith(UI_EDIT, COMMIT, { driftPolicy: 'report-only' }).plan.merged).toEqual([]);
  });

  it('takes only file names of the config folder as mergeable', () => {
    const drift = [{ path: 'packages/automations.yaml', change: 'modified', deployWants: 'write', action: 'stop' }] as const;
    const entry = file('packages/automations.yaml', COMMIT);
    const deploySet = new Map([[entry.path, entry]]);
    expect(mergeCandidates({ drift, deploySet, previousManifest: manifestOf([file('packages/automations.yaml', BASE)]), mergeFiles: ['packages/automations.yaml'], protection: () => null })).toEqual([]);
  });
});
