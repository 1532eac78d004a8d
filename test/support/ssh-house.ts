// A whole house over real sshd for an end-to-end test: sshd on 127.0.0.1, the edge under wrangler
// dev, a house (its repository, config folder and Home Assistant stand-in) and its relay process,
// connected and ready. The e2e files that need exactly this start it in one call and stop it in
// another, so each says only what its house has that the others' do not.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient, createHouse, sshTransportOf, startTestEdge, TEST_SECRETS, type ApiClient, type House, type TestEdge } from './house.ts';
import { startRelayProcess, type RelayProcess } from './relay-process.ts';
import { startSshd, type Sshd } from './sshd.ts';

export interface SshHouse {
  sshd: Sshd;
  edge: TestEdge;
  house: House;
  relay: RelayProcess;
  /** The edge's API as the test's operator. */
  api: ApiClient;
}

export interface SshHouseOptions {
  /** Vars for the edge beyond the test defaults (TARGETS, GitHub's stand-in, …). */
  edgeVars?: Record<string, string>;
  /** Merged into the relay's relay.yaml. */
  relayOverrides?: Record<string, unknown>;
}

/** Starts the house; if any part fails to start, the parts already running are stopped first. */
export async function startSshHouse(options: SshHouseOptions = {}): Promise<SshHouse> {
  const started: Partial<SshHouse> = {};
  try {
    started.sshd = await startSshd();
    started.edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-edge-')), options.edgeVars);
    started.house = await createHouse({ edgeUrl: started.edge.url, transport: sshTransportOf(started.sshd), relayOverrides: options.relayOverrides });
    started.relay = startRelayProcess(started.house.relayConfigPath);
    await started.relay.waitForLog(/edge ready/);
    return { ...(started as Omit<SshHouse, 'api'>), api: apiClient(started.edge.url, TEST_SECRETS.operatorToken) };
  } catch (error) {
    await stopSshHouse(started);
    throw error;
  }
}

/** Stops what runs, in the order that lets each part go quietly: the relay first, sshd last. */
export async function stopSshHouse(parts: Partial<SshHouse>): Promise<void> {
  await parts.relay?.kill('SIGTERM');
  await parts.edge?.stop();
  await parts.house?.close();
  await parts.sshd?.stop();
}
