/**
 * `umbeacon` command line: wires the commands together; each lives in its own module.
 *   umbeacon serve          run the relay (what `npm start` does)
 *   umbeacon import FILE    bulk-import historical events
 *   umbeacon dead-letters   list what the upstream refused; --resend once the cause is fixed
 */
import { Command } from 'commander';
import { registerServe } from './relay-node/serve-command.ts';
import { registerImport } from './importer/command.ts';
import { registerDeadLetters } from './relay-node/dead-letters-command.ts';

const program = new Command('umbeacon')
  .description('First-party tracking kit for Usermaven: relay, importer and tools.')
  .showHelpAfterError('(run with --help for usage)');

registerServe(program);
registerImport(program);
registerDeadLetters(program);

await program.parseAsync(process.argv);
