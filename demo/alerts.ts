// The demo's alert step (issue 18): the rolled-back push becomes a notification on the owner's phone.
// The demo relay's config names `notify.mobile_app_demo_phone` (`alerts: { notify: [DEMO_PHONE] }`),
// so it says `alerts` in its hello; the edge's outbox hands it the alert, the relay calls the service
// at the Home Assistant stand-in, and answers `alerted`. This step shows the call the stand-in
// recorded (title, message, and the status page a tap opens) and what the edge's outbox says of it.
import type { HomeAssistantStandIn } from '../test/support/home-assistant-standin.ts';

/** The phone of the demo's relay config: `alerts: { notify: [DEMO_PHONE] }`. */
export const DEMO_PHONE = 'notify.mobile_app_demo_phone';

export interface AlertStepContext {
  ha: Pick<HomeAssistantStandIn, 'callsTo'>;
  /** The deployment that failed or was rolled back (the demo's push 2). */
  deploymentId: string;
  /** GET on the edge's API as the operator; answers the parsed body. */
  api: (path: string) => Promise<Record<string, unknown>>;
  waitUntil: (what: string, probe: () => Promise<boolean>, timeoutMs: number) => Promise<void>;
  step: (text: string) => void;
}

/** Shows the alert of `deploymentId` as the phone got it; answers a line for the demo's result. */
export async function showAlertOnThePhone(context: AlertStepContext): Promise<string> {
  context.step('The alert on the phone: Home Assistant\'s notify service, with a tap that opens the deployment');
  const service = DEMO_PHONE.slice('notify.'.length);
  const forDeployment = () =>
    context.ha.callsTo('notify', service).find((call) => {
      const tap = (call.data as { data?: { url?: unknown } }).data?.url;
      return typeof tap === 'string' && tap.endsWith(`deployment=${context.deploymentId}`);
    });
  try {
    await context.waitUntil(`${DEMO_PHONE} to be called`, async () => forDeployment() !== undefined, 30_000);
  } catch {
    console.log(`  ${DEMO_PHONE} was not called (is \`alerts.notify\` in the demo relay's config?)`);
    return 'alert not on the phone';
  }
  const call = forDeployment()!;
  const data = call.data as { title: string; message: string; data: { url: string; clickAction: string } };
  console.log(`  POST /api/services/notify/${service} (recorded by the Home Assistant stand-in)`);
  console.log(`    title:   ${data.title}`);
  for (const line of data.message.split('\n')) console.log(`    message: ${line}`);
  console.log(`    tap:     ${data.data.url}  (data.url for iOS, data.clickAction for Android)`);
  let state = 'pending';
  await context
    .waitUntil('the edge to record the alert as delivered', async () => {
      const logs = await context.api(`/deployments/home/logs?deploymentId=${context.deploymentId}`);
      const entry = (logs.outward as { channel: string; state: string }[] | undefined)?.find((o) => o.channel === 'house');
      state = entry?.state ?? 'not queued';
      return state === 'delivered';
    }, 30_000)
    .catch(() => undefined);
  console.log(`  the edge's outbox: house alert ${state}`);
  return `alert on the phone (${state})`;
}
