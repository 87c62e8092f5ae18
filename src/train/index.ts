export * from './game-defaults.js';
export * from './run-config.js';
export * from './run-folder.js';
export * from './checkpoint.js';
export * from './env-state.js';
export * from './evaluate.js';
export * from './progress.js';
export * from './runner.js';
