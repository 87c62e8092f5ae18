export * from './replay-buffer.js';
export * from './sum-tree.js';
export * from './nstep.js';
