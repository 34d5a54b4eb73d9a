import { runCommand } from './io';
import { sweepCommand } from './sweepCommand';

process.exitCode = await runCommand(sweepCommand, process.argv.slice(2));
