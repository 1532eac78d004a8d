// Ids shaped exactly as the edge and the relay make them (shared/ids.ts), for fixtures that need a
// fixed, readable one: `testJobId(3)` is `dep_000000000000000003`.
import { DEPLOYMENT_ID_PATTERN } from '../../shared/ids.ts';

export function testJobId(n: number): string {
  const id = `dep_${String(n).padStart(18, '0')}`;
  if (!DEPLOYMENT_ID_PATTERN.test(id)) throw new Error(`testJobId(${n}) is not a job id`);
  return id;
}
