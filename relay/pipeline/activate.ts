// Makes Home Assistant pick up a change: the reloads the activation map chose, or a restart.
import type { HomeAssistantClient, RestartRequest } from '../home-assistant/client.ts';
import type { decideActivation } from './activation-map.ts';

export type ActivationPlan = ReturnType<typeof decideActivation>;

/** For a restart, whether HA answered the request (verify needs it); null otherwise. */
export async function activate(ha: HomeAssistantClient, plan: ActivationPlan): Promise<RestartRequest | null> {
  switch (plan.activation) {
    case 'none':
      return null;
    case 'reload':
      for (const domain of plan.reloadDomains) await ha.reload(domain);
      return null;
    case 'restart':
      return ha.restart();
  }
}
