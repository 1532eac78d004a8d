// `npm run build:relay`: the relay as one ESM file (dist/relay.mjs) that runs with plain `node`, no
// node_modules beside it — what the systemd unit and the Home Assistant add-on start.
// Bundled CommonJS dependencies expect what an ES module lacks: `require` (for node: built-ins),
// and `__dirname`/`__filename` (ssh2 resolves a helper path with them at load time). The banner
// defines them from the bundle's own URL. cpu-features and native .node addons stay out: ssh2 works
// without them.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outfile: { type: 'string', default: join(root, 'dist/relay.mjs') } } });

const banner = [
  'import { createRequire as __lanyardCreateRequire } from "node:module";',
  'import { fileURLToPath as __lanyardFileURLToPath } from "node:url";',
  'import { dirname as __lanyardDirname } from "node:path";',
  'const require = __lanyardCreateRequire(import.meta.url);',
  'const __filename = __lanyardFileURLToPath(import.meta.url);',
  'const __dirname = __lanyardDirname(__filename);',
].join('\n');

await build({
  entryPoints: [join(root, 'relay/cli.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile: values.outfile,
  banner: { js: banner },
  external: ['cpu-features', '*.node'],
  logLevel: 'warning',
});
console.log(`built ${values.outfile}`);
