/** Registers every bundled game with the env registry (import for side effects). */
import './catch/index.js';
import './cartpole/index.js';
import './minatar/index.js';
