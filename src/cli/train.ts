import { runCommand } from './io';
import { trainCommand } from './trainCommand';

process.exitCode = await runCommand(trainCommand, process.argv.slice(2));
