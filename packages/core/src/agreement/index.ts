export * from './categorical.js';
export * from './masks.js';
export * from './staple.js';
export * from './matching.js';
export * from './consensus.js';
export * from './points.js';
export * from './task.js';
export * from './unitizing.js';
