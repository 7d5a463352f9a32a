/**
 * `umbeacon` command line: wires the commands together; each lives in its own module.
 *   umbeacon serve          run the relay (what `npm start` does)
 *   umbeacon import FILE    bulk-import historical events
 */
import { Command } from 'commander';
import { registerServe } from './relay-node/serve-command.ts';
import { registerImport } from './importer/command.ts';

const program = new Command('umbeacon')
  .description('First-party tracking kit for Usermaven: relay, importer and tools.')
  .showHelpAfterError('(run with --help for usage)');

registerServe(program);
registerImport(program);

await program.parseAsync(process.argv);
