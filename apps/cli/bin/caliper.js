#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MB young generation halves garbage-collection time of exports (bench:export-coco).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const dist = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
if (!existsSync(dist)) {
  process.stderr.write('caliper: the CLI is not built yet; run `npm run build` in the repository root first.\n');
  process.exit(1);
}
await import(dist);
