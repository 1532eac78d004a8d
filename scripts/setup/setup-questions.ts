// The questions of `npm run setup`, in the order they are asked; each is also a flag (--<flag>).
import { isAbsolute } from 'node:path';
import { DEFAULT_HOME_ASSISTANT_HOST } from '../../relay/config.ts';
import { TARGET_NAME_PATTERN } from '../../shared/ids.ts';
import type { Question } from './questions.ts';

const local = (a: Record<string, string | undefined>) => a.local === 'yes';

export const SETUP_QUESTIONS: Question[] = [
  { flag: 'state-dir', ask: 'Folder where setup keeps what it made (secrets 0600, relay files)', fallback: () => '.lanyard' },
  { flag: 'target', ask: 'Name of this house (a target: lowercase letters, digits, dashes)', fallback: () => 'home', check: (v) => (TARGET_NAME_PATTERN.test(v) ? undefined : 'lowercase letters, digits and dashes') },
  { flag: 'repo', ask: 'GitHub repository of your Home Assistant configuration (owner/name)', check: (v) => (/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(v) ? undefined : 'owner/name') },
  { flag: 'branch', ask: 'Branch to deploy', fallback: () => 'main' },
  { flag: 'port', ask: 'Port of the local edge on 127.0.0.1', fallback: () => '8787', when: local, check: (v) => (/^\d{2,5}$/.test(v) ? undefined : 'a port number') },
  {
    flag: 'public-url',
    ask: 'Address of the Worker (https://lanyard.<your-subdomain>.workers.dev)',
    fallback: (a) => (local(a) ? `http://127.0.0.1:${a.port}` : undefined),
    check: (v) => (/^https?:\/\/[^/]+$/.test(v) ? undefined : 'scheme and host, no path'),
  },
  { flag: 'wrangler-config', ask: 'The Worker\'s configuration file', fallback: (a) => (local(a) ? `${a['state-dir']}/edge/wrangler.toml` : 'wrangler.toml') },
  { flag: 'github-token', ask: 'A GitHub token with "Webhooks: Read and write" on the repository, used once for the webhook and never stored', fallback: () => '', secret: true },
  { flag: 'github-api-url', ask: 'GitHub API', fallback: () => 'https://api.github.com' },
  { flag: 'git-remote', ask: 'Git URL the relay fetches from', fallback: (a) => `https://github.com/${a.repo}.git` },
  { flag: 'git-token', ask: 'A read-only token for a private repository ("Contents: Read"), kept in the relay\'s folder', fallback: () => '', secret: true },
  { flag: 'ssh-host', ask: 'Home Assistant host the relay logs in to over SSH', fallback: () => DEFAULT_HOME_ASSISTANT_HOST },
  { flag: 'ssh-port', ask: 'Its SSH port', fallback: () => '22', check: (v) => (/^\d{1,5}$/.test(v) ? undefined : 'a port number') },
  { flag: 'ssh-user', ask: 'The user the relay logs in as (see docs/production.md: a user, a key)', fallback: () => 'lanyard' },
  { flag: 'config-root', ask: 'Home Assistant\'s configuration folder on the host', fallback: () => '/config', check: (v) => (isAbsolute(v) ? undefined : 'an absolute path') },
  { flag: 'backup-dir', ask: 'Folder for the relay\'s backups on the host', fallback: () => '/backup/lanyard', check: (v) => (isAbsolute(v) ? undefined : 'an absolute path') },
  { flag: 'ha-url', ask: 'Home Assistant\'s address, as the relay reaches it', fallback: (a) => `http://${a['ssh-host']}:8123` },
  { flag: 'ha-token', ask: 'A long-lived access token of a Home Assistant administrator', secret: true },
  { flag: 'host-key-fingerprint', ask: 'The host key fingerprint you read on the host\'s console (otherwise setup shows the scanned one and asks)', fallback: () => '' },
  { flag: 'relay-dir', ask: 'Folder for the relay\'s files (relay.yaml, its key, token files)', fallback: (a) => `${a['state-dir']}/relay` },
  { flag: 'install-service', ask: 'Install and start the relay as a systemd service now (sudo)?', fallback: () => 'no', boolean: true, when: (a) => !local(a) },
  { flag: 'authorize-timeout', ask: 'Seconds to wait for the host to accept the relay\'s key', fallback: () => '900', check: (v) => (/^\d+$/.test(v) ? undefined : 'seconds') },
];
