/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The backup Home Assistant took of itself before a deploy restarted it (the relay's `ha_backup`
// step): a link to that backup on Home Assistant's own Backups page when the target names where
// its Home Assistant is (`environmentUrl`), its slug as text otherwise.
import type { DeploymentSummary } from '../../../shared/deployment.ts';

/** HA's frontend shows one backup at /config/backup/details/<backup_id>; under a Supervisor the id is the slug. */
export function homeAssistantBackupUrl(environmentUrl: string | undefined, slug: string): string | null {
  if (!environmentUrl) return null;
  let origin: URL;
  try {
    origin = new URL(environmentUrl);
  } catch {
    return null;
  }
  if (origin.protocol !== 'https:' && origin.protocol !== 'http:') return null;
  return `${origin.origin}/config/backup/details/${encodeURIComponent(slug)}`;
}

export function HomeAssistantBackupFact(props: { backup: NonNullable<DeploymentSummary['homeAssistantBackup']>; environmentUrl: string | undefined }) {
  const href = homeAssistantBackupUrl(props.environmentUrl, props.backup.slug);
  return (
    <>
      <dt>Home Assistant backup</dt>
      <dd data-fact="home-assistant-backup">
        {href ? (
          <a href={href} rel="noopener noreferrer" target="_blank">
            {props.backup.name}
          </a>
        ) : (
          props.backup.name
        )}{' '}
        <code>{props.backup.slug}</code>
      </dd>
    </>
  );
}
