export * from './categorical.js';
export * from './masks.js';
