import { exportHfCommand } from './exportHfCommand';
import { runCommand } from './io';

process.exitCode = await runCommand(exportHfCommand, process.argv.slice(2));
