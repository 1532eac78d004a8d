// The relay's command line: `relay run`, `relay doctor`, `relay backups`, `relay rollback --to`.
import { parseArgs } from 'node:util';
import { ConfigError, loadRelayConfig } from './config.ts';
import { consoleLogger } from './log.ts';

const USAGE = `usage: relay <command> --config relay.yaml

commands:
  run                 connect to the edge and deploy what it asks for
  doctor              check everything the relay needs, one line each; exit 0 when ready
  backups             list the backups kept on the Home Assistant host
  rollback --to ID    restore a backup now, without the edge (break glass)
`;

export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const configPath = values.config ?? process.env.LANYARD_RELAY_CONFIG ?? 'relay.yaml';
  const logger = consoleLogger();
  try {
    switch (command) {
      case 'run': {
        const loaded = await loadRelayConfig(configPath);
        const { startRelay } = await import('./daemon.ts');
        const { createPipeline } = await import('./pipeline/deploy-pipeline.ts');
        const pipeline = await createPipeline(loaded, logger);
        const relay = await startRelay(loaded, pipeline, logger);
        // In the background: a job that comes first waits for the cache, and finds it fetched.
        void pipeline.warmUp();
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info(`${signal}: finishing the current job, then stopping`);
            void relay.stop().then(() => pipeline.close()).then(resolve);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
        return 0;
      }
      case 'doctor': {
        const { runDoctor } = await import('./doctor.ts');
        return await runDoctor(configPath);
      }
      case 'backups': {
        const loaded = await loadRelayConfig(configPath);
        const { listBackups } = await import('./pipeline/backups.ts');
        const { openTargetHost } = await import('./transport/open-target-host.ts');
        const host = await openTargetHost(loaded);
        try {
          const backups = await listBackups(host, loaded.config.host.backupDir);
          if (!backups.length) process.stdout.write('no backups\n');
          for (const b of backups) {
            process.stdout.write(`${b.id}  ${new Date(b.createdAt).toISOString()}  ${b.files.length} files  before ${b.jobId} (${b.reason})\n`);
          }
        } finally {
          await host.close();
        }
        return 0;
      }
      case 'rollback': {
        if (!values.to) {
          process.stderr.write('relay rollback needs --to <backup id> (see `relay backups`)\n');
          return 2;
        }
        const loaded = await loadRelayConfig(configPath);
        const { createPipeline } = await import('./pipeline/deploy-pipeline.ts');
        const pipeline = await createPipeline(loaded, logger);
        try {
          const outcome = await pipeline.breakGlassRestore(values.to);
          process.stdout.write(`${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ''}\n`);
          return outcome.status === 'succeeded' ? 0 : 1;
        } finally {
          await pipeline.close();
        }
      }
      default:
        process.stderr.write(`unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`relay: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('relay/cli.ts')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
