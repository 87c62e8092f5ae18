/**
 * `checkEnv`: contract checks for an environment, in the spirit of Gymnasium's env checker.
 * Accepts an env or a factory. Runs every check it can and throws one `EnvCheckError` listing
 * every problem found (each in the `[checkEnv(id)] expected ..., received ...; fix: ...` shape).
 * Vector (Box), Dict and pixel (uint8 [H, W, C]) observations are all checked element by element;
 * `render()` is optional (a game without it is checked without frames).
 */
import { NpcforgeError, formatError, describe } from '../errors.js';
import { Wrapper, canRender, type Env, type EnvSnapshot } from './env.js';
import { SeededRng } from './rng.js';
import { compareStateReplay, isSpace, renderChecker, type CheckProblem, snapshot, whyNotIn } from './check-shared.js';

export class EnvCheckError extends NpcforgeError {
  /** Every problem found, one formatted line each. */
  readonly problems: string[] = [];
}

export interface CheckEnvOptions {
  /** Steps per episode checked (default 200). */
  steps?: number;
  /** Seed used for the determinism check (default 123). */
  seed?: number;
  /** Skip the render checks (for envs that cannot draw at their declared size). */
  skipRender?: boolean;
}

function isEnv(x: unknown): x is Env<any, any> {
  const e = x as Partial<Env<any, any>> | null;
  return typeof e === 'object' && e !== null && typeof e.reset === 'function' && typeof e.step === 'function';
}

/**
 * Runs the contract checks twice with the same seed and compares the two runs. Given a factory,
 * each run gets a fresh env, closed (twice, to check it is idempotent) afterwards. Given an env, both
 * runs use it (`reset({seed})` must reseed everything) and it stays open: the caller owns it.
 * Checks: spec and spaces; reset and step results (observations in the space, numeric reward,
 * boolean flags, earlier observations unchanged); step after the episode ended refused (or
 * answered with terminated/truncated again); getState/setState replay the same steps; render, when
 * present, returns frames of one size; identical runs under one seed.
 */
export function checkEnv(envOrFactory: Env<any, any> | (() => Env<any, any>), opts: CheckEnvOptions = {}): void {
  const factory = typeof envOrFactory === 'function' ? envOrFactory : null;
  const problems = new Map<string, string>();
  let id = 'env';
  // One entry per kind of problem: a broken observation is reported once, not at every step.
  const problem = (kind: string, expected: string, received: string, fix: string): void => {
    if (!problems.has(kind)) problems.set(kind, formatError(`checkEnv(${id})`, expected, received, fix));
  };
  const report = (): void => {
    if (problems.size === 0) return;
    const lines = [...problems.values()];
    const err = new EnvCheckError(lines.length === 1 ? lines[0]! : `[checkEnv(${id})] ${lines.length} problems:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
    err.problems.push(...lines);
    throw err;
  };
  if (factory === null && !isEnv(envOrFactory)) {
    problem('env', 'an Env (with reset and step) or a function returning one', describe(envOrFactory), "pass make('catch') or () => make('catch')");
    report();
  }
  const given = factory === null ? (envOrFactory as Env<any, any>) : null;
  const steps = opts.steps ?? 200;
  const seed = opts.seed ?? 123;
  const runs: string[][] = [];
  for (let run = 0; run < 2; run++) {
    const env = given ?? makeEnv(factory!, problem);
    if (!isEnv(env)) {
      problem('env', 'the factory to return an Env (with reset and step)', describe(env), 'return the env from the factory');
      report();
    }
    id = env.spec?.id ?? 'env';
    if (!env.spec || !Array.isArray(env.spec.actionNames)) problem('spec', 'a spec with actionNames', describe(env.spec), 'set spec.actionNames');
    if (!isSpace(env.observationSpace)) problem('obsSpace', 'an observationSpace (Box or Dict)', describe(env.observationSpace), 'declare observationSpace with new Box(...) or new Dict(...)');
    if (!isSpace(env.actionSpace)) problem('actSpace', 'an actionSpace (Discrete, MultiDiscrete or Box)', describe(env.actionSpace), 'declare actionSpace with new Discrete(n), ...');
    if (problems.size) report();
    const drawable = !opts.skipRender && canRender(env);
    const rng = new SeededRng(seed);
    const trace: string[] = [];
    const checkObs = (o: unknown, where: string): void => {
      if (!env.observationSpace.contains(o)) problem('obs', `observations in observationSpace ${JSON.stringify(env.observationSpace.toJSON())} (first seen at ${where})`, whyNotIn(env.observationSpace, o), 'make observations match the declared space (shape, dtype, bounds)');
    };
    const renderCheck = drawable ? renderChecker(() => env.render!(), problem) : null;
    const checkRender = (): void => renderCheck?.();
    const reset = env.reset({ seed });
    if (!reset || typeof reset !== 'object' || !('obs' in reset) || typeof reset.info !== 'object' || reset.info === null) {
      problem('reset', 'reset() to return {obs, info}', describe(reset), 'return { obs, info: {} }');
      report();
    }
    let obs = reset.obs;
    checkObs(obs, 'reset');
    checkRender();
    trace.push(snapshot(obs));
    let afterDoneChecked = false;
    let stateChecked = false;
    for (let t = 0; t < steps; t++) {
      if (!stateChecked && t === 2) stateChecked = checkStateRoundTrip(env, rng, problem);
      const action = env.actionSpace.sample(rng);
      const before = snapshot(obs);
      const r = env.step(action);
      if (snapshot(obs) !== before) problem('overwrite', 'earlier observations to stay unchanged after step()', `obs of step ${t} was overwritten`, 'return a fresh array from every step');
      checkObs(r.obs, `step ${t + 1}`);
      if (typeof r.reward !== 'number' || Number.isNaN(r.reward)) problem('reward', 'a numeric reward', describe(r.reward), 'return a number');
      if (typeof r.terminated !== 'boolean' || typeof r.truncated !== 'boolean') problem('flags', 'boolean terminated and truncated', `${describe(r.terminated)}, ${describe(r.truncated)}`, 'return booleans');
      if (typeof r.info !== 'object' || r.info === null) problem('info', 'step() to return an info object', describe(r.info), 'return info: {}');
      checkRender();
      trace.push(`${snapshot(r.obs)}|${r.reward}|${r.terminated}|${r.truncated}|${snapshot(action)}`);
      obs = r.obs;
      if (r.terminated || r.truncated) {
        if (!afterDoneChecked) {
          afterDoneChecked = true;
          checkStepAfterDone(env, env.actionSpace.sample(new SeededRng(seed)), snapshot(r.obs), problem);
        }
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
    if (a[i] !== b[i]) {
      problem('determinism', 'identical episodes for the same seed and actions', `a difference at transition ${i}`, 'draw every random number from the env RNG seeded in reset({seed})');
      break;
    }
  }
  report();
}

type Problem = CheckProblem;

/** Calls the factory; a class passed where a factory belongs is named (calling it without new throws). */
function makeEnv(factory: () => Env<any, any>, problem: Problem): Env<any, any> {
  try {
    return factory();
  } catch (err) {
    if (err instanceof TypeError && /class constructor/i.test(err.message)) {
      problem('env', 'an env or a factory function', `the class ${factory.name || '(anonymous)'}`, `pass () => new ${factory.name || 'MyGame'}()`);
      return null as never;
    }
    throw err;
  }
}

/** A step after the episode ended must be refused (throw) or answer the final state again (terminated/truncated, same obs), never play on. */
function checkStepAfterDone(env: Env<any, any>, action: unknown, finalObs: string, problem: Problem): void {
  let r;
  try {
    r = env.step(action);
  } catch {
    return;
  }
  if ((!r.terminated && !r.truncated) || snapshot(r.obs) !== finalObs) problem('afterDone', 'step() after the episode ended to throw (ResetNeededError)', 'a step that played on', 'refuse step() until reset(), e.g. by extending GameEnv');
}

/**
 * getState, three steps, setState, the same three steps: the two runs must agree. Run on the game
 * inside the wrappers (wrappers keep their own state, see `envs/env-state.ts`); the game is left
 * in the saved state. Returns false when the env has no getState/setState (they are optional).
 */
function checkStateRoundTrip(env: Env<any, any>, rng: SeededRng, problem: Problem): boolean {
  const game = (env instanceof Wrapper ? env.unwrapped : env) as Env<any, any>;
  if (typeof game.getState !== 'function' || typeof game.setState !== 'function') return false;
  const saved = JSON.stringify(game.getState());
  const actions = [0, 1, 2].map(() => game.actionSpace.sample(rng.fork()));
  const play = (): string[] => {
    const out: string[] = [];
    for (const a of actions) {
      const r = game.step(a);
      out.push(`${snapshot(r.obs)}|${r.reward}|${r.terminated}|${r.truncated}`);
      if (r.terminated || r.truncated) break;
    }
    return out;
  };
  compareStateReplay(saved, (state) => game.setState!(state as EnvSnapshot), play, problem);
  return true;
}
