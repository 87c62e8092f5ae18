export * from './specs.js';
export * from './builders.js';
export * from './encoders.js';
export * from './optimizers.js';
export * from './weights.js';
