export * from './categorical.js';
export * from './masks.js';
export * from './staple.js';
export * from './matching.js';
