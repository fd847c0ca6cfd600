export { probeFile } from './probe.js';
export type { ProbeResult, ProbeMetadata } from './probe.js';
export { sanitizeFileName } from './filename.js';
export type { SanitizedName } from './filename.js';
