#!/usr/bin/env bash
# Installs the Debian packages the tests use (real sshd, git, Chromium; yamllint and shellcheck for
# the workflow template; jq for the add-on's entry point; busybox to run the host scripts with
# Home Assistant OS's tools; Prometheus' Python client to parse /metrics) when they are missing and
# this user may install them; otherwise says exactly what is missing and how to get it.
set -euo pipefail

missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v tar >/dev/null 2>&1 || missing+=(tar)
command -v yamllint >/dev/null 2>&1 || missing+=(yamllint)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v rsync >/dev/null 2>&1 || missing+=(rsync)
command -v busybox >/dev/null 2>&1 || missing+=(busybox)
# Prometheus' own parser of /metrics' formats, in Debian's Python (test/support/exposition-parser.ts).
/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' >/dev/null 2>&1 || missing+=(python3-prometheus-client)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages the tests need: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "The tests need these Debian packages, which are missing: ${missing[*]}" >&2
echo "Install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
