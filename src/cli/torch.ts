import { torchCommand } from './torchCommand';
import { runCommand } from './io';

process.exitCode = await runCommand(torchCommand, process.argv.slice(2));
