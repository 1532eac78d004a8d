// One house for a file of fault tests: a real sshd as the Home Assistant host (its unprivileged
// test user owns the config and backup folders, so permissions really bite), wrangler dev as the
// edge, the HA stand-in, and a real relay process. Optional middlemen put a fault between two
// parts without touching either: a TCP proxy between the relay and the edge that can cut the
// link, a throttling one between the relay and sshd, an HTTP front before Home Assistant.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { HomeAssistantStandIn } from './home-assistant-standin.ts';
import { startHomeAssistantFront, type HomeAssistantFront } from './home-assistant-front.ts';
import {
  apiClient,
  createHouse,
  HOST_ONLY_FILES,
  snapshotTree,
  sshTransportOf,
  startTestEdge,
  TEST_SECRETS,
  waitForDeployment,
  type ApiClient,
  type House,
  type TestEdge,
  type TreeEntry,
} from './house.ts';
import { sendPush } from './push.ts';
import { startRelayProcess, type RelayProcess } from './relay-process.ts';
import { startSshd, type Sshd } from './sshd.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export const FINAL_STATES = ['succeeded', 'failed', 'rolled_back'];

export interface FaultHouseOptions {
  /** Vars for wrangler dev, e.g. a short RELAY_LEASE_MS. */
  edgeVars?: Record<string, string>;
  /** The relay reaches the edge through a TCP proxy that can cut the link (`edgeLink`). */
  edgeThroughProxy?: boolean;
  /** The relay reaches sshd through a TCP proxy that can throttle (`sshLink`). */
  sshThroughProxy?: boolean;
  /** The relay reaches Home Assistant through a front that can fake faults (`haFront`). */
  haThroughFront?: boolean;
  /** Last changes to the relay's config before it starts. */
  relayConfig?: (config: Record<string, any>) => void;
}

export interface FaultHouse {
  sshd: Sshd;
  edge: TestEdge;
  house: House;
  relay: RelayProcess;
  /** The operator. */
  api: ApiClient;
  admin: ApiClient;
  edgeLink: TcpProxy | null;
  sshLink: TcpProxy | null;
  haFront: HomeAssistantFront | null;
  /** Commits and pushes; resolves with the deployment the edge queued. */
  push(files: Record<string, string | null>, message: string): Promise<{ sha: string; id: string }>;
  /** Pushes and waits for the deployment to end. */
  deploy(files: Record<string, string | null>, message: string, timeoutMs?: number): Promise<{ sha: string; id: string; deployment: any; steps: any[] }>;
  /** Every path of the config folder with hash and mode, Lanyard's own `.lanyard/` left out. */
  snapshot(): Promise<Record<string, TreeEntry>>;
  /** The house's own files (secrets, .storage, the database, the log) exactly as they were made. */
  hostOnlyFilesUntouched(): Promise<boolean>;
  /** The relay's log lines that mention a deployment. */
  logOf(id: string): string[];
  stop(): Promise<void>;
}

const notLanyard = (path: string) => path === '.lanyard' || path.startsWith('.lanyard/');

export async function startFaultHouse(options: FaultHouseOptions = {}): Promise<FaultHouse> {
  const sshd = await startSshd();
  const edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-edge-')), options.edgeVars);
  const edgeLink = options.edgeThroughProxy ? await startTcpProxy(edge.port) : null;
  const sshLink = options.sshThroughProxy ? await startTcpProxy(sshd.port) : null;
  const transport = sshTransportOf(sshd);
  if (transport.kind !== 'ssh') throw new Error('the fault house runs over ssh');
  const house = await createHouse({ edgeUrl: edgeLink ? `http://127.0.0.1:${edgeLink.port}` : edge.url, transport: sshLink ? { ...transport, port: sshLink.port } : transport });
  const haFront = options.haThroughFront ? await startHomeAssistantFront(house.ha.url) : null;

  const config = parse(await readFile(house.relayConfigPath, 'utf8')) as Record<string, any>;
  if (haFront) config.homeAssistant.url = haFront.url;
  options.relayConfig?.(config);
  await writeFile(house.relayConfigPath, stringify(config));

  const relay = startRelayProcess(house.relayConfigPath);
  await relay.waitForLog(/edge ready/, 60_000);
  const api = apiClient(edge.url, TEST_SECRETS.operatorToken);

  const push = async (files: Record<string, string | null>, message: string) => {
    const sha = await house.commit(files, message);
    return { sha, id: await sendPush(edge.url, sha, message) };
  };
  return {
    sshd,
    edge,
    house,
    relay,
    api,
    admin: apiClient(edge.url, TEST_SECRETS.adminToken),
    edgeLink,
    sshLink,
    haFront,
    push,
    async deploy(files, message, timeoutMs = 90_000) {
      const { sha, id } = await push(files, message);
      const { deployment, steps } = await waitForDeployment(api, id, FINAL_STATES, timeoutMs);
      return { sha, id, deployment, steps };
    },
    snapshot: () => snapshotTree(house.configRoot, notLanyard),
    async hostOnlyFilesUntouched() {
      for (const [path, content] of Object.entries(HOST_ONLY_FILES)) {
        if ((await readFile(join(house.configRoot, path), 'utf8')) !== content) return false;
      }
      return true;
    },
    logOf: (id) => relay.log.split('\n').filter((line) => line.includes(id)),
    async stop() {
      await relay.kill('SIGTERM');
      await edge.stop();
      await edgeLink?.close();
      await sshLink?.close();
      await haFront?.close();
      await house.close();
      await sshd.stop();
    },
  };
}

/** The persistent notification Lanyard shows in Home Assistant, the newest one. */
export function lastLanyardNotice(ha: HomeAssistantStandIn): { title: string | undefined; message: string } | undefined {
  return ha.notifications.filter((n) => n.notificationId === 'lanyard_home').at(-1);
}
