#!/bin/sh
# Entry point of the add-on: turn the add-on options into relay.yaml, then run the relay with the
# local transport. Inside an add-on, SUPERVISOR_TOKEN gives the relay Home Assistant's API through
# http://supervisor/core; /config is Home Assistant's config, /backup the shared backup folder.
set -eu
OPTIONS=/data/options.json
mkdir -p /data/lanyard

umask 077
{
  echo "relayId: ha-addon"
  echo "stateDir: /data/lanyard"
  echo "edge:"
  echo "  url: $(jq -r .edge_url "$OPTIONS")"
  echo "  target: $(jq -r .target "$OPTIONS")"
  echo "  token: $(jq -r .relay_token "$OPTIONS" | jq -R .)"
  echo "git:"
  echo "  remote: $(jq -r .git_remote "$OPTIONS" | jq -R .)"
  echo "  branch: $(jq -r .git_branch "$OPTIONS")"
  if [ "$(jq -r '.git_token // empty' "$OPTIONS")" != "" ]; then
    echo "  token: $(jq -r .git_token "$OPTIONS" | jq -R .)"
  fi
  echo "host:"
  echo "  transport: local"
  echo "  configRoot: /config"
  echo "  backupDir: /backup/lanyard"
  echo "homeAssistant:"
  echo "  requiredEntities: $(jq -c .required_entities "$OPTIONS")"
} > /data/lanyard/relay.yaml
mkdir -p /backup/lanyard

node /opt/lanyard/relay.mjs doctor --config /data/lanyard/relay.yaml || echo "relay doctor found problems (above); starting anyway, the relay retries"
exec node /opt/lanyard/relay.mjs run --config /data/lanyard/relay.yaml
