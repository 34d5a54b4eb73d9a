import { evalCommand } from './evalCommand';
import { runCommand } from './io';

process.exitCode = await runCommand(evalCommand, process.argv.slice(2));
