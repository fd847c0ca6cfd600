import type { Deps } from '../deps.js';
import { registerExportWorker } from './exports/runs.js';
import { registerWorkers as registerIngestWorker } from './ingest/worker.js';
import { registerQualityWorkers } from './quality/hooks.js';

/** Every background job handler this process runs (ingest, exports, consensus, accuracy). */
export async function registerWorkers(deps: Deps) {
  await registerIngestWorker(deps);
  await registerExportWorker(deps);
  await registerQualityWorkers(deps);
}
