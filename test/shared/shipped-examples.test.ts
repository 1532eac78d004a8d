// The examples a user copies from the repository must be valid as shipped: the relay config of
// deploy/ and the TARGETS table of wrangler.toml. A field renamed in a schema and not in an example fails
// this test instead of the user's first start.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RelayConfig } from '../../relay/config.ts';
import { experimental_readRawConfig } from 'wrangler';
import { loadTargets, TargetConfig } from '../../worker/config/targets.ts';

const root = new URL('../../', import.meta.url);
const text = (path: string) => readFile(new URL(path, root), 'utf8');

describe('shipped examples', () => {
  it('deploy/relay.example.yaml is valid once its host key placeholder is replaced, and refused until then', async () => {
    const example = parse(await text('deploy/relay.example.yaml')) as { host: { ssh: { hostKeyFingerprint: string } } };
    // The placeholder cannot pass for a fingerprint: a copy used as is stops with the field named.
    const asShipped = RelayConfig.safeParse(example);
    expect(asShipped.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['host.ssh.hostKeyFingerprint', 'SHA256:<43 base64 characters>, as `ssh-keyscan HOST | ssh-keygen -lf -` prints'],
    ]);
    example.host.ssh.hostKeyFingerprint = `SHA256:${'x'.repeat(43)}`;
    const filledIn = RelayConfig.safeParse(example);
    expect(filledIn.error?.issues ?? []).toEqual([]);
    expect(filledIn.data?.homeAssistant).toMatchObject({ sensor: true, notify: true });
  });

  it('the TARGETS of wrangler.toml, read as wrangler reads the file, are valid targets', () => {
    const { rawConfig } = experimental_readRawConfig({ config: new URL('wrangler.toml', root).pathname });
    const targets = (rawConfig.vars as Record<string, unknown> | undefined)?.TARGETS;
    expect(targets, 'wrangler.toml has a TARGETS var').toBeDefined();
    const list = loadTargets(targets);
    expect(list.map((t) => t.name)).toEqual(['home']);
  });

  it('catches a field the schema does not know', () => {
    expect(TargetConfig.safeParse({ name: 'home', repo: 'a/b', relayTokenSecret: 'RELAY_TOKEN_HOME', drfitPolicy: 'stop' }).success).toBe(false);
  });
});
