// Two kinds of tests: the Worker's, inside workerd with real Durable Objects and D1; and the
// relay's and end-to-end ones, in Node against real sshd, git, wrangler dev and Chromium.
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Offline machines: never try to fetch Request.cf from Cloudflare, never send wrangler metrics.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
process.env.WRANGLER_SEND_METRICS ??= 'false';

const migrations = await readD1Migrations('./migrations');

// Restart windows (issue 18) in UTC, placed around the time the tests start: one shut for hours to
// come, one open now (its opening is due at once, so the hub's alarm acts on it without a fake clock).
const hhmmUtc = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const HOUR_MS = 3_600_000;
const testsStart = Date.now();
const SHUT_WINDOW = `${hhmmUtc(testsStart + 6 * HOUR_MS)}-${hhmmUtc(testsStart + 7 * HOUR_MS)}`;
const OPEN_WINDOW = `${hhmmUtc(testsStart - HOUR_MS)}-${hhmmUtc(testsStart + 3 * HOUR_MS)}`;

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              // These tests make hundreds of refused requests from one workerd, none carrying
              // CF-Connecting-IP (so all from one shared address): with wrangler.toml's limits they
              // would be throttled by accident. The rate limits themselves are tested against the
              // real wrangler.toml, through wrangler dev (test/e2e/rate-limits.test.ts).
              ratelimits: {
                SIGN_IN_RATE_LIMIT: { simple: { limit: 1_000_000, period: 60 } },
                API_RATE_LIMIT: { simple: { limit: 1_000_000, period: 60 } },
                RELAY_RATE_LIMIT: { simple: { limit: 1_000_000, period: 60 } },
              },
              bindings: {
                TEST_MIGRATIONS: migrations,
                WEBHOOK_SECRET: 'test-webhook-secret',
                WEBHOOK_SECRET_PREVIOUS: 'test-webhook-secret-old',
                API_TOKENS: JSON.stringify([
                  { name: 'vera', role: 'viewer', token: 'viewer-token-lanyard-test' },
                  { name: 'otto', role: 'operator', token: 'operator-token-lanyard-test' },
                  { name: 'ada', role: 'admin', sha256: '86d52b26889c0e27ee3d007986c91490c2609ddbabcef949a6069d983df8bbbb' },
                ]),
                SESSION_SECRET: 'worker-tests-session-secret-2b1f0c9d7e6a5b4c3d2e1f0a9b8c7d6e',
                // The scraper's own token (`scrape-token-lanyard-test`), kept hashed as a secret may be.
                METRICS_TOKEN: 'sha256:4eb96c4226a2a0b8e808001426d199728335f647ebf0b3d1a5fb17d0aeaad507',
                RELAY_TOKEN_HOME: 'relay-token-home',
                RELAY_TOKEN_GATED: 'sha256:48bd551b3580de628dcdd43c0e5f2a17857f222c34955bcd2ea05a81c94445a8',
                // GitHub Deployments for the `outward` target only, against a port nothing listens
                // on: the tests see an outage, and nothing ever leaves 127.0.0.1.
                GITHUB_TOKEN_OUTWARD: 'github-token-outward-test',
                GITHUB_API_URL: 'http://127.0.0.1:9',
                TARGETS: JSON.stringify([
                  { name: 'home', repo: 'octo-home/ha-config', branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME' },
                  { name: 'cabin', repo: 'octo-home/ha-config', branch: 'cabin', relayTokenSecret: 'RELAY_TOKEN_HOME', publicReadOnly: true, capture: 'auto' },
                  {
                    name: 'gated',
                    repo: 'octo-home/gated-config',
                    branch: 'main',
                    trigger: { type: 'workflow_run', workflow: 'Config check' },
                    relayTokenSecret: 'RELAY_TOKEN_GATED',
                  },
                  {
                    name: 'outward',
                    repo: 'octo-home/outward-config',
                    branch: 'main',
                    relayTokenSecret: 'RELAY_TOKEN_HOME',
                    githubTokenSecret: 'GITHUB_TOKEN_OUTWARD',
                    environmentUrl: 'https://ha.example.org',
                    requiredContexts: ['Config check'],
                  },
                  {
                    name: 'dispatched',
                    repo: 'octo-home/dispatch-config',
                    branch: 'main',
                    trigger: { type: 'dispatch', eventType: 'deploy-home' },
                    relayTokenSecret: 'RELAY_TOKEN_GATED',
                  },
                  { name: 'windowed', repo: 'octo-home/windowed-config', branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME', restartWindows: [SHUT_WINDOW], timeZone: 'UTC' },
                  { name: 'window-open', repo: 'octo-home/window-open-config', branch: 'main', relayTokenSecret: 'RELAY_TOKEN_HOME', restartWindows: [OPEN_WINDOW], timeZone: 'UTC' },
                  // Release tags (issue 18): deploys pushed tags v*, in semantic-version order.
                  { name: 'releases', repo: 'octo-home/release-config', branch: 'main', trigger: { type: 'tag', pattern: 'v*' }, relayTokenSecret: 'RELAY_TOKEN_HOME' },
                ]),
              },
            },
          }),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          setupFiles: ['test/worker/apply-migrations.ts'],
          // The generated and flood cases (hundreds of requests each) take a few seconds on a quiet
          // machine and more on a busy 2-core CI runner: a bound for a hung test, not a speed goal.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/shared/**/*.test.ts', 'test/docs/**/*.test.ts', 'test/relay/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/support/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
