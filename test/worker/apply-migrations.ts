// Runs before each test file: the ledger's tables, as `wrangler d1 migrations apply` would make them.
import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

await applyD1Migrations(env.LEDGER, env.TEST_MIGRATIONS);
