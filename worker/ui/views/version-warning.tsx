/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// A warning on the target page when the connected relay and this edge are of different Lanyard
// releases (the relay says its version in hello), naming the older one and how to update it.
import type { RelayView } from '../../../shared/api.ts';
import { compareVersions, LANYARD_VERSION } from '../../../shared/release-version.ts';

export function VersionWarning(props: { relay: RelayView }) {
  const { relay } = props;
  if (!relay.connected || !relay.version) return null;
  const order = compareVersions(relay.version, LANYARD_VERSION);
  if (order === 0) return null;
  const relayOlder = order < 0;
  return (
    <p class="card small" data-version-warning={relayOlder ? 'relay-older' : 'edge-older'} role="status">
      {relayOlder
        ? `The relay runs Lanyard ${relay.version}, older than this edge's ${LANYARD_VERSION}: update the relay (npm run setup -- --update where it runs, or Update on the add-on's page).`
        : `This edge runs Lanyard ${LANYARD_VERSION}, older than the relay's ${relay.version}: update the edge (git pull && npm run setup -- --update).`}
    </p>
  );
}
