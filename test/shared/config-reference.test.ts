// The configuration reference is generated from the schemas; a stale copy fails the build.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configurationReference } from '../../scripts/config-reference.ts';

describe('docs/configuration.md', () => {
  it('is what the schemas say today (run `npm run docs` after changing a schema)', async () => {
    const committed = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(configurationReference());
  });

  it('documents every relay field a homeowner sets, with its default', () => {
    const text = configurationReference();
    for (const field of ['edge.url', 'host.ssh.hostKeyFingerprint', 'homeAssistant.verifyTimeoutSeconds', 'deploy.keepBackups', 'activation', 'trigger (type: workflow_run).workflow']) {
      expect(text).toContain(`\`${field}\``);
    }
    expect(text).toContain('default `"/config"`');
  });
});
