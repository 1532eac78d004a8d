// Status pages that watch a target hold a WebSocket to its hub and are told only that something
// changed; they fetch what they show through the API, with their own rights. Nothing a watcher
// sends is read.
import type { Hub } from './hub.ts';

/** Tells every watching status page that something changed. */
export function notifyWatchers(hub: Hub): void {
  const watchers = hub.sockets('watcher');
  if (!watchers.length) return;
  const text = JSON.stringify({ type: 'changed', at: Date.now() });
  for (const ws of watchers) {
    try {
      ws.send(text);
    } catch {
      // A watcher that went away is cleaned up by the runtime.
    }
  }
}
