// `npm run export-dataset -- <key|file.jsonl>`: the dataset's canonical JSONL on stdout.
import { canonicalJsonl } from '../lib/core/data/traces';
import { loadDataset } from './datasets';
import { runCommand, UsageError } from './io';

process.exitCode = await runCommand(async (argv, io) => {
	if (argv.length !== 1) throw new UsageError('usage: npm run export-dataset -- <dataset key or file.jsonl>');
	io.out(canonicalJsonl(loadDataset(argv[0]).traces));
	return 0;
}, process.argv.slice(2));
