import { describe, expect, it } from 'vitest';
import { newId } from '../../shared/ids.ts';
import { HubMessage, RelayMessage } from '../../shared/protocol.ts';

const sha = 'a'.repeat(40);

describe('the pull-request plan messages', () => {
  it('take a plan of a pull request with a strict id, and nothing that could name content, a command or a URL', () => {
    const plan = { type: 'plan', planId: newId('pln'), target: 'home', pullNumber: 7, headSha: sha, baseBranch: 'main' };
    expect(HubMessage.safeParse(plan).success).toBe(true);
    expect(HubMessage.safeParse({ ...plan, planId: 'pln_../../etc' }).success).toBe(false);
    expect(HubMessage.safeParse({ ...plan, baseBranch: 'main; rm -rf /' }).success).toBe(false);
    expect(HubMessage.safeParse({ ...plan, headSha: 'HEAD' }).success).toBe(false);
    // An unknown key is dropped by the parse: a `url` or `command` never reaches the relay's code.
    const parsed = HubMessage.parse({ ...plan, url: 'https://evil.example/repo.git' });
    expect(parsed).not.toHaveProperty('url');
  });

  it('bound every list of the answer', () => {
    const planned = {
      type: 'planned', planId: newId('pln'), outcome: 'planned', reason: null,
      toWrite: ['automations.yaml'], toWriteCount: 1, toDelete: [], toDeleteCount: 0,
      activation: 'reload', activationReasons: [{ path: 'automations.yaml', need: 'reload:automation', why: 'automations reload' }],
      reloadDomains: ['automation'], conflicts: [], conflictsCount: 0, merged: [], refusals: [], refusalsCount: 0, at: 1,
    };
    expect(RelayMessage.safeParse(planned).success).toBe(true);
    expect(RelayMessage.safeParse({ ...planned, toWrite: Array.from({ length: 201 }, (_, i) => `f${i}.yaml`) }).success).toBe(false);
    expect(RelayMessage.safeParse({ ...planned, toWrite: ['../outside.yaml'] }).success).toBe(false);
    expect(RelayMessage.safeParse({ ...planned, outcome: 'applied' }).success).toBe(false);
  });
});
