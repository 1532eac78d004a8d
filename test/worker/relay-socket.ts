// A relay's side of the channel inside workerd: opens /relay/connect through the Worker, says
// hello and lets a test answer jobs, so queue behaviour can be driven through the real protocol.
import type { HubMessage, RelayMessage } from '../../shared/protocol.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol.ts';
import { call } from './helpers.ts';

export interface TestRelay {
  socket: WebSocket;
  received: HubMessage[];
  send(message: RelayMessage | string): void;
  next(type: HubMessage['type'], timeoutMs?: number): Promise<HubMessage>;
  close(): void;
}

/** A relay of this test: by default one that never reports backups, like a relay older than the backup inventory. */
export async function connectRelay(target = 'home', token = 'relay-token-home', hello = true, capabilities = ['deploy', 'rollback']): Promise<TestRelay> {
  const response = await call(`/relay/connect?target=${target}`, { headers: { Upgrade: 'websocket', Authorization: `Bearer ${token}` } });
  const socket = response.webSocket;
  if (!socket) throw new Error(`no WebSocket: ${response.status} ${await response.text()}`);
  socket.accept();
  const received: HubMessage[] = [];
  const waiters: (() => void)[] = [];
  socket.addEventListener('message', (event) => {
    received.push(JSON.parse(String(event.data)) as HubMessage);
    waiters.splice(0).forEach((w) => w());
  });
  let seen = 0;
  const relay: TestRelay = {
    socket,
    received,
    send: (m) => socket.send(typeof m === 'string' ? m : JSON.stringify(m)),
    async next(type, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = received.findIndex((m, i) => i >= seen && m.type === type);
        if (index >= 0) {
          seen = index + 1;
          return received[index]!;
        }
        if (Date.now() > deadline) throw new Error(`no ${type} message within ${timeoutMs} ms (got ${JSON.stringify(received)})`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => socket.close(1000, 'test done'),
  };
  if (hello) {
    relay.send({ type: 'hello', v: PROTOCOL_VERSION, relayId: 'test-relay', version: '0.0.0', capabilities, inFlight: null });
    await relay.next('welcome');
  }
  return relay;
}

/** Finishes whatever jobs earlier tests left queued for this relay's target, so a test starts clean. */
export async function drainJobs(relay: TestRelay, firstWaitMs = 500): Promise<void> {
  let job = await relay.next('job', firstWaitMs).catch(() => null);
  while (job && job.type === 'job') {
    relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: {} as never });
    job = await relay.next('job', 500).catch(() => null);
  }
}
