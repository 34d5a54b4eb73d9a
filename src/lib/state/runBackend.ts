// Which backend a run used, as the pages show it (the run lists, the run page's header, its
// provenance and its Resume choice): one rule, so every place names the same backend.

import { trainedBackend, type RunRecord } from '../core/run/record';

/**
 * The backend that trained the run (its provenance); before training chose one, `none`: by default
 * the backend its config asks for (possibly `auto`), or e.g. '—' where a list shows that none has.
 */
export function backendLabel(run: RunRecord, none?: string): string {
	return none === undefined ? trainedBackend(run) : run.provenance.backend || none;
}
