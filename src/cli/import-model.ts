import { runCommand } from './io';
import { importModelCommand } from './importModelCommand';

process.exitCode = await runCommand(importModelCommand, process.argv.slice(2));
