/**
 * The real redis-server of the tests (bench/redis-server.ts starts it on a free loopback port).
 * Missing redis-server skips the tests outside CI (where `.ci/run` installs it) and fails them in CI.
 */
import { hasRedisServer } from '../../bench/redis-server.js';

export { hasRedisServer, startRedis, type TestRedis } from '../../bench/redis-server.js';

/** True where the tests may skip for want of redis-server (not in CI). */
export const skipWithoutRedis = !hasRedisServer && !process.env.CI;
