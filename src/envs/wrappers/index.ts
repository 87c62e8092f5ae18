export { TimeLimit } from './time-limit.js';
export { OrderEnforcing } from './order-enforcing.js';
