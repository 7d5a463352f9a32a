import type { Command } from 'commander';

/** Placeholder until the relay lands: the relay issue replaces this module. */
export function registerServe(program: Command): void {
  program.command('serve').description('run the relay').action(() => {
    console.error('umbeacon serve: not built yet');
    process.exitCode = 1;
  });
}
