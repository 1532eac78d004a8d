// A first deploy of a large config changes thousands of files. Its result must still fit in one
// frame the hub accepts, or the hub refuses it and the deployment never gets its final state.
import { describe, expect, it } from 'vitest';
import { boundedSummary, DeploymentSummary, pathCount, SUMMARY_PATHS_LIMIT } from '../../shared/deployment.ts';
import { MAX_RELAY_FRAME_BYTES, ResultMessage } from '../../shared/protocol.ts';
import { testJobId } from '../support/wire-ids.ts';

const paths = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}/${'deep/'.repeat(20)}file-${i}.yaml`);

describe('the summary a relay reports', () => {
  it('a deploy of 30,000 files still fits in one frame, and still says how many files it was', () => {
    const summary = DeploymentSummary.parse({ filesChanged: paths(30_000, 'www'), filesDeleted: paths(12_000, 'old'), drift: paths(8_000, 'ui') });
    const frame = JSON.stringify(ResultMessage.parse({ type: 'result', jobId: testJobId(1), status: 'succeeded', reason: null, summary: boundedSummary(summary) }));
    // Unbounded, the same result is several megabytes: the limit is what the cut is for.
    expect(JSON.stringify(summary).length).toBeGreaterThan(MAX_RELAY_FRAME_BYTES);
    expect(frame.length).toBeLessThan(MAX_RELAY_FRAME_BYTES);
    const sent = ResultMessage.parse(JSON.parse(frame)).summary;
    expect(sent.filesChanged.length).toBeLessThanOrEqual(SUMMARY_PATHS_LIMIT);
    expect(sent.filesChanged).toEqual(summary.filesChanged.slice(0, sent.filesChanged.length));
    expect([pathCount(sent, 'filesChanged'), pathCount(sent, 'filesDeleted'), pathCount(sent, 'drift')]).toEqual([30_000, 12_000, 8_000]);
  });

  it('a usual deploy is reported whole, with no counts beside it', () => {
    const summary = DeploymentSummary.parse({ filesChanged: ['automations.yaml', 'packages/garden.yaml'], filesDeleted: ['old.yaml'] });
    expect(boundedSummary(summary)).toEqual(summary);
    expect(pathCount(summary, 'filesChanged')).toBe(2);
  });
});
