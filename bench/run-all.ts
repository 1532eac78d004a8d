// `npm run bench`: every benchmark under bench/, one after another in its own process (so one's
// memory or open sockets cannot colour the next), each printing its figures and ratios.
//
//   npm run bench                      all of them
//   npm run bench -- webhook-intake    only those whose file name contains an argument
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => !only.length || only.some((word) => name.includes(word)))
  .sort();
if (!benches.length) {
  console.error(`no benchmark matches ${only.join(', ')}; there are: ${readdirSync(here).filter((n) => n.endsWith('.bench.ts')).join(', ')}`);
  process.exit(2);
}

const failed: string[] = [];
for (const name of benches) {
  console.log(`\n=== ${name} (${new Date().toISOString()})`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, name)], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) failed.push(`${name} (exit ${result.status ?? result.signal})`);
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
