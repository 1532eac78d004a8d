// The relay's check of Home Assistant when it starts (doctor's HA line, in one request): said in
// `hello`, so the status page's first-run checklist can tell "HA reachable from the relay" without
// anyone running `relay doctor` by hand.
import type { LoadedConfig } from '../config.ts';
import { HomeAssistantClient } from './client.ts';

export interface HomeAssistantCheck {
  ok: boolean;
  detail: string;
}

export async function checkHomeAssistantAtStart(loaded: LoadedConfig): Promise<HomeAssistantCheck> {
  const { config, secrets } = loaded;
  const client = new HomeAssistantClient({ baseUrl: config.homeAssistant.url, token: secrets.homeAssistantToken, requestTimeoutMs: 5000 });
  try {
    await client.ping();
    return { ok: true, detail: `${client.baseUrl} answered with the relay's token` };
  } catch (error) {
    return { ok: false, detail: (error instanceof Error ? error.message : String(error)).slice(0, 500) };
  }
}
