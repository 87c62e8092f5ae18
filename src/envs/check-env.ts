/**
 * `checkEnv`: contract checks for an environment, in the spirit of Gymnasium's env checker.
 * Accepts an env or a factory. Throws an `NpcforgeError` describing the first violation.
 */
import { NpcforgeError, formatError, describe } from '../errors.js';
import type { Env } from './env.js';
import { SeededRng } from './rng.js';

export class EnvCheckError extends NpcforgeError {}

export interface CheckEnvOptions {
  /** Steps per episode checked (default 200). */
  steps?: number;
  /** Seed used for the determinism check (default 123). */
  seed?: number;
  /** Skip the render checks (for envs that cannot draw). */
  skipRender?: boolean;
}

function fail(id: string, expected: string, received: string, fix: string): never {
  throw new EnvCheckError(formatError(`checkEnv(${id})`, expected, received, fix));
}

function snapshot(x: unknown): string {
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>).join(',');
  return JSON.stringify(x);
}

function isEnv(x: unknown): x is Env<any, any> {
  const e = x as Partial<Env<any, any>> | null;
  return typeof e === 'object' && e !== null && typeof e.reset === 'function' && typeof e.step === 'function';
}

/**
 * Runs the contract checks twice with the same seed and compares the two runs. Given a factory,
 * each run gets a fresh env, closed (twice, to check it is idempotent) afterwards. Given an env, both
 * runs use it (`reset({seed})` must reseed everything) and it stays open: the caller owns it.
 */
export function checkEnv(envOrFactory: Env<any, any> | (() => Env<any, any>), opts: CheckEnvOptions = {}): void {
  const factory = typeof envOrFactory === 'function' ? envOrFactory : null;
  if (factory === null && !isEnv(envOrFactory)) {
    fail('env', 'an Env (with reset and step) or a function returning one', describe(envOrFactory), "pass make('catch') or () => make('catch')");
  }
  const given = factory === null ? (envOrFactory as Env<any, any>) : null;
  const steps = opts.steps ?? 200;
  const seed = opts.seed ?? 123;
  const runs: string[][] = [];
  let id = 'env';
  for (let run = 0; run < 2; run++) {
    const env = given ?? factory!();
    if (!isEnv(env)) fail('env', 'the factory to return an Env (with reset and step)', describe(env), 'return the env from the factory');
    id = env.spec?.id ?? 'env';
    if (!env.spec || !Array.isArray(env.spec.actionNames)) fail(id, 'a spec with actionNames', describe(env.spec), 'set spec.actionNames');
    const rng = new SeededRng(seed);
    const trace: string[] = [];
    let { obs } = env.reset({ seed });
    let frameShape: string | null = null;
    const checkObs = (o: unknown, where: string): void => {
      if (!env.observationSpace.contains(o)) fail(id, `observationSpace.contains(obs) at ${where}`, describe(o), 'make observations match the declared space (shape, dtype, bounds)');
    };
    const checkRender = (): void => {
      if (opts.skipRender) return;
      const f = env.render();
      if (!f || !(f.data instanceof Uint8Array) || f.data.length !== f.width * f.height * 3) fail(id, 'render() to return {width, height, data: Uint8Array(w*h*3)}', describe(f), 'return an RGB frame');
      const shape = `${f.width}x${f.height}`;
      if (frameShape !== null && frameShape !== shape) fail(id, `a stable render shape ${frameShape}`, shape, 'render every state at the same size');
      frameShape = shape;
    };
    checkObs(obs, 'reset');
    checkRender();
    trace.push(snapshot(obs));
    for (let t = 0; t < steps; t++) {
      const action = env.actionSpace.sample(rng);
      const before = snapshot(obs);
      const r = env.step(action);
      if (snapshot(obs) !== before) fail(id, 'earlier observations to stay unchanged after step()', `obs of step ${t} was overwritten`, 'return a fresh array from every step');
      checkObs(r.obs, `step ${t + 1}`);
      if (typeof r.reward !== 'number' || Number.isNaN(r.reward)) fail(id, 'a numeric reward', describe(r.reward), 'return a number');
      if (typeof r.terminated !== 'boolean' || typeof r.truncated !== 'boolean') fail(id, 'boolean terminated and truncated', `${describe(r.terminated)}, ${describe(r.truncated)}`, 'return booleans');
      checkRender();
      trace.push(`${snapshot(r.obs)}|${r.reward}|${r.terminated}|${r.truncated}|${snapshot(action)}`);
      obs = r.obs;
      if (r.terminated || r.truncated) {
        obs = env.reset().obs;
        checkObs(obs, `reset after step ${t + 1}`);
        trace.push(`reset|${snapshot(obs)}`);
      }
    }
    if (!given) {
      env.close();
      env.close();
    }
    runs.push(trace);
  }
  const [a, b] = runs as [string[], string[]];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) fail(id, 'identical episodes for the same seed and actions', `a difference at transition ${i}`, 'draw every random number from the env RNG seeded in reset({seed})');
  }
}
