import type { Command } from 'commander';

/** Placeholder until the importer lands: the server-side issue replaces this module. */
export function registerImport(program: Command): void {
  program.command('import <file>').description('bulk-import historical events').action(() => {
    console.error('umbeacon import: not built yet');
    process.exitCode = 1;
  });
}
