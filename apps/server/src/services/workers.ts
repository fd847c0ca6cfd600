import type { Deps } from '../deps.js';
import { registerExportWorker } from './exports/runs.js';
import { registerWorkers as registerIngestWorker } from './ingest/worker.js';

/** Every background job handler this process runs (ingest, exports). */
export async function registerWorkers(deps: Deps) {
  await registerIngestWorker(deps);
  await registerExportWorker(deps);
}
