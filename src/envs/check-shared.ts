/**
 * What the single-agent and the multi-agent env checkers share: a comparable text of an
 * observation or action, the space test, and why a value is not in its space.
 */
import { describe } from '../errors.js';
import { Box, Dict, type Space } from './spaces.js';

/** A comparable text of an observation, action or dict of them (typed arrays by value). */
export function snapshot(x: unknown): string {
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>).join(',');
  if (x && typeof x === 'object' && !Array.isArray(x)) return Object.keys(x).sort().map((k) => `${k}:${snapshot((x as Record<string, unknown>)[k])}`).join(';');
  return JSON.stringify(x);
}

/** A checker's way to file one problem: kind, what was expected, what was received, the fix. */
export type CheckProblem = (kind: string, expected: string, received: string, fix: string) => void;

/**
 * The state round trip both checkers make: `play()` (a few steps as comparable text), restore the
 * JSON-cloned `saved` state, `play()` again; the two must agree. The env is left in the saved
 * state. A throwing getState/setState or step is filed as a problem, not thrown.
 */
export function compareStateReplay(saved: string, setState: (state: unknown) => void, play: () => string[], problem: CheckProblem): void {
  const fix = 'save every field the game reads in getState(), RNG included';
  try {
    const first = play();
    setState(JSON.parse(saved));
    const second = play();
    if (first.join('/') !== second.join('/')) problem('state', 'the same steps after setState(getState()) (JSON round trip)', `a difference at step ${first.findIndex((s, i) => s !== second[i]) + 1}`, fix);
    setState(JSON.parse(saved));
  } catch (err) {
    problem('state', 'getState()/setState() to round-trip through JSON', `an error: ${(err as Error).message.split('\n')[0]}`, fix);
  }
}

/**
 * A render check for one run: each call renders and files a problem when the frame is not an RGB
 * frame or its size differs from the run's first frame.
 */
export function renderChecker(render: () => unknown, problem: CheckProblem): () => void {
  let frameShape: string | null = null;
  return () => {
    const f = render() as { width: number; height: number; data: unknown } | null | undefined;
    if (!f || !(f.data instanceof Uint8Array) || f.data.length !== f.width * f.height * 3) {
      problem('render', 'render() to return {width, height, data: Uint8Array(w*h*3)}', describe(f), 'return an RGB frame, or leave render() out');
      return;
    }
    const shape = `${f.width}x${f.height}`;
    if (frameShape !== null && frameShape !== shape) problem('renderSize', `a stable render shape ${frameShape}`, shape, 'render every state at the same size');
    frameShape = shape;
  };
}

/** True for anything shaped like a Space (contains, sample, toJSON). */
export function isSpace(x: unknown): x is Space {
  const s = x as Partial<Space> | null;
  return typeof s === 'object' && s !== null && typeof s.contains === 'function' && typeof s.sample === 'function' && typeof s.toJSON === 'function';
}

/** Why `x` is not in `space`, naming the Dict key, the dtype, the length or the first out-of-bounds index. */
export function whyNotIn(space: Space, x: unknown): string {
  if (space instanceof Dict) {
    if (!x || typeof x !== 'object' || ArrayBuffer.isView(x)) return `${describe(x)} (a Dict observation is an object of arrays)`;
    const keys = Object.keys(space.spaces);
    const extra = Object.keys(x).filter((k) => !keys.includes(k));
    if (extra.length) return `extra keys ${extra.join(', ')}`;
    for (const k of keys) {
      const v = (x as Record<string, unknown>)[k];
      if (!space.spaces[k]!.contains(v)) return `key '${k}': ${whyNotIn(space.spaces[k]!, v)}`;
    }
    return 'a value outside the space';
  }
  if (space instanceof Box) {
    const ctor = space.dtype === 'uint8' ? Uint8Array : space.dtype === 'int32' ? Int32Array : Float32Array;
    if (!(x instanceof ctor)) return `${describe(x)} (expected a ${ctor.name} of ${space.size} values, shape [${space.shape.join(', ')}])`;
    if (x.length !== space.size) return `length ${x.length} (shape [${space.shape.join(', ')}] has ${space.size} values)`;
    for (let i = 0; i < space.size; i++) {
      const v = x[i]!;
      if (!(v >= space.low[i]! && v <= space.high[i]!)) return `value ${v} at index ${i} outside [${space.low[i]}, ${space.high[i]}]`;
    }
  }
  return describe(x);
}
