// Opens the transport the configuration names: the local filesystem or SSH with a pinned host key.
import type { LoadedConfig } from '../config.ts';
import { LocalHost } from './local-host.ts';
import { connectSshHost } from './ssh-host.ts';
import type { TargetHost } from './target-host.ts';

export async function openTargetHost(loaded: LoadedConfig): Promise<TargetHost> {
  const { host } = loaded.config;
  if (host.transport === 'local') return new LocalHost();
  const ssh = host.ssh!;
  return connectSshHost({
    host: ssh.host,
    port: ssh.port,
    username: ssh.username,
    hostKeyFingerprint: ssh.hostKeyFingerprint,
    readyTimeoutMs: ssh.readyTimeoutSeconds * 1000,
    ...(ssh.privateKeyPath ? { privateKeyPath: ssh.privateKeyPath } : {}),
    ...(ssh.passphrase ? { passphrase: ssh.passphrase } : {}),
    ...(ssh.agent ? { agent: ssh.agent } : {}),
  });
}
