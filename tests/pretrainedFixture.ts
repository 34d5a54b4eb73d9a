// Test GPT-2 models in Hugging Face layout (scripts/gpt2Writer.ts), read as the CLI reads a folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTestGpt2, type TestGpt2Options } from '../scripts/gpt2Writer';

export { readHfFolder as hfFiles } from '../src/cli/models';

/** A folder holding the model these options describe. */
export function makeTestGpt2(o: TestGpt2Options = {}): string {
	return writeTestGpt2(mkdtempSync(join(tmpdir(), 'tunix-gpt2-')), o);
}
