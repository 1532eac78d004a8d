// The first-run checklist of a target that never saw a delivery or a relay, in real headless
// Chromium against the Worker under `wrangler dev`: each line turns from "not yet" to "yes" as
// GitHub's ping and the relay arrive, a refused signature shows as "no" with its fix, and a relay
// of another release than the edge gets a warning naming the one to update.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/protocol.ts';
import { LANYARD_VERSION } from '../../shared/release-version.ts';
import { guardedContext, launchBrowser, screenshot, signIn, type GuardedContext } from '../support/browser.ts';
import { pingPayload } from '../support/github-payloads.ts';
import { createHouse, startTestEdge, TEST_REPO, TEST_SECRETS, type House, type TestEdge } from '../support/house.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { webhookRequestInit } from '../support/webhook-delivery.ts';

let dir: string;
let edge: TestEdge;
let house: House;
let relay: RelayProcess | null = null;
let browser: Browser;
let context: GuardedContext;
let page: Page;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lanyard-first-run-'));
  edge = await startTestEdge(dir, { SESSION_SECRET: 'first-run-test-session-secret-0123456789' });
  house = await createHouse({ edgeUrl: edge.url });
  browser = await launchBrowser();
  context = await guardedContext(browser);
  page = await context.newPage();
  await signIn(page, edge.url, TEST_SECRETS.adminToken, '/targets/home');
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close();
  await relay?.kill('SIGTERM');
  await edge?.stop();
  await house?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The state of each line of the checklist, as the page shows it now. */
async function checklist(): Promise<Record<string, string>> {
  await page.goto(`${edge.url}/targets/home`);
  const items = await page.locator('[data-first-run] [data-check]').all();
  const out: Record<string, string> = {};
  for (const item of items) out[(await item.getAttribute('data-check'))!] = (await item.getAttribute('data-state'))!;
  return out;
}

async function deliver(secret: string) {
  return fetch(`${edge.url}/webhooks/github`, await webhookRequestInit({ event: 'ping', payload: pingPayload(TEST_REPO), secret }));
}

describe('a fresh target\'s first-run checklist', () => {
  it('starts with every line "not yet", each with its one fix', async () => {
    expect(await checklist()).toEqual({ webhook: 'waiting', signature: 'waiting', relay: 'waiting', 'home-assistant': 'waiting' });
    const fixes = await page.locator('[data-first-run] [data-fix]').allTextContents();
    expect(fixes).toHaveLength(4);
    expect(fixes[0]).toContain('npm run setup');
    expect(fixes[2]).toContain('relay');
    await screenshot(page, 'first-run-fresh');
  });

  it('shows a refused signature as "no", with the secret to fix', async () => {
    expect((await deliver('not-the-webhook-secret')).status).toBe(401);
    const states = await checklist();
    expect(states.signature).toBe('failed');
    expect(await page.locator('[data-check=signature] [data-fix]').textContent()).toContain('WEBHOOK_SECRET');
  });

  it('turns "webhook" and "signature" to yes when GitHub\'s signed ping arrives', async () => {
    expect((await deliver(TEST_SECRETS.webhookSecret)).status).toBe(200);
    expect(await checklist()).toMatchObject({ webhook: 'ok', signature: 'ok', relay: 'waiting' });
  });

  it('turns "relay" and "Home Assistant" to yes when the relay connects and HA answered it', async () => {
    relay = startRelayProcess(house.relayConfigPath);
    await relay.waitForLog(/edge ready/);
    expect(await checklist()).toEqual({ webhook: 'ok', signature: 'ok', relay: 'ok', 'home-assistant': 'ok' });
    expect(await page.locator('[data-version-warning]').count()).toBe(0);
    await screenshot(page, 'first-run-ready');
  });

  it('warns when the relay is of an older release than the edge, naming the one to update', async () => {
    // A relay of an older release says hello (it takes over from the one above).
    const socket = new WebSocket(`${edge.url.replace('http', 'ws')}/relay/connect?target=home`, { headers: { Authorization: `Bearer ${TEST_SECRETS.relayToken}` } });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, relayId: 'old-relay', version: '0.0.9', capabilities: ['deploy'], inFlight: null }));
      });
      socket.on('message', (data) => {
        if ((JSON.parse(String(data)) as { type: string }).type === 'welcome') resolve();
      });
      socket.once('error', reject);
    });
    await page.goto(`${edge.url}/targets/home`);
    const warning = page.locator('[data-version-warning]');
    expect(await warning.getAttribute('data-version-warning')).toBe('relay-older');
    expect(await warning.textContent()).toContain(`older than this edge's ${LANYARD_VERSION}`);
    socket.close();
  });
});
