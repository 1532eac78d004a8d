#!/bin/sh
# Entry point of the add-on: turn the add-on options into relay.yaml, then run the relay with the
# local transport. Inside an add-on, SUPERVISOR_TOKEN gives the relay Home Assistant's API through
# http://supervisor/core. The `homeassistant_config` map puts Home Assistant's configuration at
# /homeassistant (an add-on's own /config is its private folder since Supervisor 2023.11), and
# `backup` the shared backup folder at /backup.
# LANYARD_* variables move those paths, for the tests; the add-on never sets them.
set -eu
DATA="${LANYARD_DATA:-/data}"
HA_CONFIG="${LANYARD_HA_CONFIG:-/homeassistant}"
BACKUP="${LANYARD_BACKUP:-/backup}"
RELAY="${LANYARD_RELAY:-/opt/lanyard/relay.mjs}"
OPTIONS="$DATA/options.json"
CONFIG="$DATA/lanyard/relay.yaml"
mkdir -p "$DATA/lanyard"

# Every value goes through jq's JSON encoding: a JSON string is a valid YAML scalar, whatever it holds.
umask 077
{
  echo "relayId: ha-addon"
  echo "stateDir: $(printf '%s' "$DATA/lanyard" | jq -R .)"
  echo "edge:"
  echo "  url: $(jq .edge_url "$OPTIONS")"
  echo "  target: $(jq .target "$OPTIONS")"
  echo "  token: $(jq .relay_token "$OPTIONS")"
  echo "git:"
  echo "  remote: $(jq .git_remote "$OPTIONS")"
  echo "  branch: $(jq .git_branch "$OPTIONS")"
  if [ "$(jq -r '.git_token // empty' "$OPTIONS")" != "" ]; then
    echo "  token: $(jq .git_token "$OPTIONS")"
  fi
  echo "host:"
  echo "  transport: local"
  echo "  configRoot: $(printf '%s' "$HA_CONFIG" | jq -R .)"
  # Absolute links in a configuration name it as Home Assistant sees it (/config) or as add-ons do
  # since Supervisor 2023.11 (/homeassistant): both are this folder.
  echo "  homeAssistantConfigPaths: [\"/config\", \"/homeassistant\"]"
  echo "  backupDir: $(printf '%s' "$BACKUP/lanyard" | jq -R .)"
  echo "homeAssistant:"
  echo "  requiredEntities: $(jq -c '.required_entities // []' "$OPTIONS")"
  echo "  backup:"
  echo "    enabled: $(jq '.home_assistant_backup == true' "$OPTIONS")"
} > "$CONFIG"
mkdir -p "$BACKUP/lanyard"

node "$RELAY" doctor --config "$CONFIG" || echo "relay doctor found problems (above); starting anyway, the relay retries"
# The same memory settings as the systemd unit (see there; the MALLOC_ variables only matter on glibc).
export MALLOC_ARENA_MAX=2
export MALLOC_MMAP_THRESHOLD_=65536
exec node --max-semi-space-size=2 --optimize-for-size "$RELAY" run --config "$CONFIG"
