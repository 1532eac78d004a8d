// Makes Home Assistant pick up a change: the reloads the activation map chose, or a restart.
import type { HomeAssistantClient } from '../home-assistant/client.ts';
import type { decideActivation } from './activation-map.ts';

export type ActivationPlan = ReturnType<typeof decideActivation>;

export async function activate(ha: HomeAssistantClient, plan: ActivationPlan): Promise<void> {
  switch (plan.activation) {
    case 'none':
      return;
    case 'reload':
      for (const domain of plan.reloadDomains) await ha.reload(domain);
      return;
    case 'restart':
      await ha.restart();
      return;
  }
}
