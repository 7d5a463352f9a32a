/**
 * `umbeacon serve`: settings from the environment, flags override them (one flag per
 * setting, see `umbeacon serve --help`). A wrong setting stops start-up with one line.
 * SIGTERM/SIGINT stop gracefully: answer what is in flight, send what can be sent within
 * DRAIN_MS, keep the rest on disk for the next start.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig, SETTINGS, type SettingName } from './config.ts';
import { startRelayServer } from './server.ts';
import { DirectoryLockedError, DirectoryNotWritableError } from '../delivery/file-spool/index.ts';

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the relay: serves the tracker and the site, stores events durably, forwards them to Usermaven')
    .addHelpText(
      'after',
      '\nEvery flag has an environment variable (flags win):\n' +
        SETTINGS.map((s) => `  ${s.env.padEnd(24)}${s.def ? `default ${s.def}` : ''}`).join('\n') +
        '\n\nWithout USERMAVEN_API_KEY and USERMAVEN_SERVER_TOKEN it runs the embedded default:\nevents are kept under DATA_DIR and shown live on /_events.',
    );
  for (const s of SETTINGS) cmd.option(s.flag, `${s.help} [${s.env}]`);
  cmd.action(async (flags: Record<string, string | undefined>) => {
    const overrides: Partial<Record<SettingName, string>> = {};
    for (const s of SETTINGS) {
      const key = camel(s.flag.split(' ')[0]!.slice(2));
      const v = flags[key];
      if (v !== undefined) overrides[s.env] = String(v);
    }
    let config;
    try {
      config = loadConfig(process.env, overrides);
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(`umbeacon serve: ${error.message}`);
        process.exit(2);
      }
      throw error;
    }
    let relay;
    try {
      relay = await startRelayServer(config);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const reason = error instanceof DirectoryNotWritableError || error instanceof DirectoryLockedError ? `DATA_DIR ${e.message}` : e.code === 'EADDRINUSE' ? `port ${config.port} on ${config.host} is in use (set PORT)` : e.code === 'EACCES' ? `no permission to listen on ${config.host}:${config.port} or to write ${config.dataDir}` : e.message;
      console.error(`umbeacon serve: ${reason}`);
      process.exit(1);
    }
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      relay.logger.info('signal', { signal });
      relay.close().then(
        () => process.exit(0),
        (error: unknown) => {
          relay.logger.error('shutdown failed', { reason: error instanceof Error ? error.message : String(error) });
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
