// Experiment only (never in production): makes annotationDocumentSchema.safeParse a no-op so a
// benchmark shows the upper bound of what faster document validation could gain. Label and
// attribute checks in validateDocument still run. Usage:
//   BENCH_DBS=sqlite BENCH_PACED=0 BENCH_NO_DOCS=1 node --import ./bench/experiments/skip-validation.mjs bench/saves.mjs
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const core = await import(pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href);
core.annotationDocumentSchema.safeParse = (input) => ({ success: true, data: input });
console.error('[experiment] annotationDocumentSchema.safeParse skipped (upper bound of the zod validation cost)');
