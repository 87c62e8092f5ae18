/** Registers every bundled game with the env registry (import for side effects). */
import './catch/index.js';
import './cartpole/index.js';
import './snake/index.js';
import './pong/index.js';
import './memory-maze/index.js';
import './minatar/index.js';
import './pendulum/index.js';
import './mountain-car-continuous/index.js';
