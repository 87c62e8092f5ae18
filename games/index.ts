/**
 * The bundled games (`npcforge/games`): importing registers every game with the env registry and
 * exports their env classes and option types.
 */
export * from './catch/index.js';
export * from './cartpole/index.js';
export * from './snake/index.js';
export * from './pong/index.js';
export * from './memory-maze/index.js';
export * from './minatar/index.js';
export * from './pendulum/index.js';
export * from './mountain-car-continuous/index.js';
export * from './tank/index.js';
export * from './beacon/index.js';
export * from './tag/index.js';
