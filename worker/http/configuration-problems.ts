// What this edge can tell of its own configuration that is wrong, each with the fix, for /healthz
// and for the log line each isolate writes once. Only the facts, never a secret's value.
import type { Env } from '../env.ts';
import { checkSessionSecret } from '../ui/session-secret.ts';
import { loadTargets } from '../config/targets.ts';
import { missingRateLimits } from './rate-limit.ts';

export interface ConfigurationProblem {
  code: string;
  message: string;
}

export function configurationProblems(env: Env): ConfigurationProblem[] {
  const problems: ConfigurationProblem[] = [];
  const session = checkSessionSecret(env);
  if (!session.ok) problems.push({ code: session.code, message: session.message });
  if (!env.WEBHOOK_SECRET) {
    problems.push({
      code: 'webhook_secret_missing',
      message: 'No WEBHOOK_SECRET: every webhook delivery is refused. Set it to the secret of GitHub\'s webhook: `npx wrangler secret put WEBHOOK_SECRET`.',
    });
  }
  const missing = missingRateLimits(env);
  if (missing.length) {
    problems.push({
      code: 'rate_limits_missing',
      message: `No rate limit binding ${missing.join(', ')}: refused tokens are not limited. Add the [[ratelimits]] entries of the project's wrangler.toml to yours and deploy again.`,
    });
  }
  const unsent = targetsEmailingWithoutBinding(env);
  if (unsent.length) {
    problems.push({
      code: 'alert_email_binding_missing',
      message: `Target${unsent.length === 1 ? '' : 's'} ${unsent.join(', ')} set${unsent.length === 1 ? 's' : ''} \`alerts.email\`, but the Worker has no ALERT_EMAIL send_email binding: no alert is emailed. Add the [[send_email]] entry of the project's wrangler.toml to yours (Email Routing on, the address verified) and deploy again, or remove \`alerts.email\`.`,
    });
  }
  return problems;
}

/** Targets whose `alerts.email` cannot be sent: the binding is missing. An unreadable TARGETS is reported where it is read. */
function targetsEmailingWithoutBinding(env: Env): string[] {
  if (env.ALERT_EMAIL) return [];
  try {
    return loadTargets(env.TARGETS).filter((t) => t.alerts.email !== undefined).map((t) => t.name);
  } catch {
    return [];
  }
}

let reported = false;

/** Logs the problems once per isolate: the nearest a Worker has to a message at start-up. */
export function reportConfigurationOnce(env: Env): void {
  if (reported) return;
  reported = true;
  for (const problem of configurationProblems(env)) console.error(`lanyard edge configuration: ${problem.message}`);
}
