// dcmjs, loaded on first use: the byte-level fast path (fast-path.ts) does not need it for
// Explicit VR files, and importing it costs a noticeable share of a short process's start-up.
// Its loggers are silenced on load: dcmjs warnings can echo attribute values (PHI).
import { createRequire } from 'node:module';
import type Dcmjs from 'dcmjs';

let loaded: typeof Dcmjs | null = null;

export function dcmjsLib(): typeof Dcmjs {
  if (!loaded) {
    const lib = createRequire(import.meta.url)('dcmjs') as typeof Dcmjs;
    lib.log.setLevel('silent');
    for (const logger of Object.values(lib.log.getLoggers())) logger.setLevel('silent');
    loaded = lib;
  }
  return loaded;
}
