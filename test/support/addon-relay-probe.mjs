// Stands in for dist/relay.mjs when the add-on's run.sh is tested: records how it was called, one
// line per call, in the file LANYARD_PROBE_LOG names, and exits 0. The add-on's own logic (the
// options turned into relay.yaml) is what the test checks; the relay itself is tested elsewhere.
import { appendFileSync } from 'node:fs';

appendFileSync(process.env.LANYARD_PROBE_LOG ?? '/dev/null', `${process.argv.slice(2).join(' ')}\n`);
