/**
 * Optimizers with explicit, serialisable slots (so a checkpoint restores them exactly): Adam and
 * centred RMSProp as used by DQN on MinAtar. Also global-norm gradient clipping and the one
 * gradient step every agent takes (`applyGradients`: clip, then the optimizer).
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import { SLOT_UPDATE, type SlotUpdateAttrs } from './kernels/optimizer.js';

export type OptimizerConfig =
  /** Adam (Kingma & Ba 2015) with bias correction. */
  | { kind: 'adam'; learningRate: number; beta1: number; beta2: number; epsilon: number }
  /**
   * Centred RMSProp as in PyTorch (`centered=True`): v = d v + (1-d) g^2, m = d m + (1-d) g,
   * step = lr g / (sqrt(v - m^2) + epsilon), with optional heavy-ball momentum on the step.
   * MinAtar's DQN: lr 2.5e-4, decay ("squared gradient momentum") 0.95, epsilon 0.01, momentum 0.
   */
  | { kind: 'rmsprop-centered'; learningRate: number; decay: number; momentum: number; epsilon: number };

/** Fields of each optimizer kind; any other key is an error (a typo would otherwise be ignored). */
const OPTIMIZER_KEYS: Record<OptimizerConfig['kind'], readonly string[]> = {
  adam: ['kind', 'learningRate', 'beta1', 'beta2', 'epsilon'],
  'rmsprop-centered': ['kind', 'learningRate', 'decay', 'momentum', 'epsilon'],
};

/** Reports every bad field of an optimizer config (unknown keys by their dotted path). */
export function checkOptimizerConfig(c: OptimizerConfig, path = 'optimizer'): string[] {
  const errs: string[] = [];
  // A learning rate above 1 (or 1e30, Infinity) only drives the weights to NaN.
  const rate = (k: string, v: unknown): void => {
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) errs.push(`${path}.${k} = ${describe(v)} (want 0 < x <= 1)`);
  };
  const pos = (k: string, v: unknown): void => {
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) errs.push(`${path}.${k} = ${describe(v)} (want 0 < x <= 1)`);
  };
  const unit = (k: string, v: unknown): void => {
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) errs.push(`${path}.${k} = ${describe(v)} (want 0 <= x < 1)`);
  };
  if (!c || typeof c !== 'object' || Array.isArray(c)) return [`${path} = ${describe(c)} (want {kind: 'adam' | 'rmsprop-centered', learningRate, ...})`];
  const known = OPTIMIZER_KEYS[c.kind as OptimizerConfig['kind']];
  if (known) for (const k of Object.keys(c)) if (!known.includes(k)) errs.push(`unknown key ${describe(`${path}.${k}`)} (known: ${known.join(', ')})`);
  if (c.kind === 'adam') {
    rate('learningRate', c.learningRate);
    unit('beta1', c.beta1);
    unit('beta2', c.beta2);
    pos('epsilon', c.epsilon);
  } else if (c.kind === 'rmsprop-centered') {
    rate('learningRate', c.learningRate);
    unit('decay', c.decay);
    unit('momentum', c.momentum);
    pos('epsilon', c.epsilon);
  } else {
    errs.push(`${path}.kind = ${describe((c as { kind: unknown }).kind)} (want 'adam' or 'rmsprop-centered')`);
  }
  return errs;
}

/** Scales gradients so their global L2 norm is at most `maxNorm`; returns new tensors and the norm before clipping. */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: tf.Scalar } {
  return tf.tidy(() => {
    const sq = grads.map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(tf.addN(sq)) as tf.Scalar;
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    return { grads: grads.map((g) => tf.mul(g, scale)), norm };
  });
}

/**
 * The gradient step of every agent (DQN, DRQN, SAC, the policy-gradient agents): clips the
 * gradients (`vars` order, looked up by variable name) to a global norm of `clipNorm` when it is
 * > 0, applies them and returns the norm before clipping. Call inside tidy.
 */
export function applyGradients(optimizer: SlotOptimizer, vars: tf.Variable[], grads: tf.NamedTensorMap, clipNorm: number): tf.Scalar {
  const list = vars.map((v) => grads[v.name]!);
  if (clipNorm > 0) {
    const clipped = clipByGlobalNorm(list, clipNorm);
    optimizer.apply(clipped.grads);
    return clipped.norm;
  }
  optimizer.apply(list);
  return tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
}

/** Adam's bias-corrected step size at update `t` (1-based). */
function adamStepSize(c: OptimizerConfig & { kind: 'adam' }, t: number): number {
  return (c.learningRate * Math.sqrt(1 - Math.pow(c.beta2, t))) / (1 - Math.pow(c.beta1, t));
}

/** An optimizer over a fixed list of variables; owns its slot variables (call `dispose`). */
export class SlotOptimizer {
  /** The settings in use; `setLearningRate` replaces the learning rate (annealing). */
  config: OptimizerConfig;
  /** Number of updates applied (Adam's bias-correction t). */
  step = 0;
  private readonly vars: tf.Variable[];
  private readonly slots: tf.Variable[][];

  constructor(config: OptimizerConfig, vars: tf.Variable[]) {
    const errs = checkOptimizerConfig(config);
    if (errs.length) throw new InvalidConfigError(formatError('Optimizer', 'a valid optimizer config', errs.join('; '), 'fix the listed fields'));
    this.config = config;
    this.vars = vars;
    const nSlots = config.kind === 'adam' ? 2 : config.momentum > 0 ? 3 : 2;
    // tidy frees the zero tensors the slot variables are made from (the variables themselves stay).
    this.slots = tf.tidy(() => vars.map((v) => Array.from({ length: nSlots }, () => tf.variable(tf.zerosLike(v), false))));
  }

  /**
   * Sets the learning rate of the next updates (schedules such as PPO's linear annealing). Not
   * part of the slots: the caller recomputes it from its own counters after a resume.
   */
  setLearningRate(learningRate: number): void {
    if (!(Number.isFinite(learningRate) && learningRate >= 0 && learningRate <= 1)) {
      throw new InvalidConfigError(formatError('Optimizer.setLearningRate', 'a learning rate 0 <= x <= 1', describe(learningRate), 'pass a finite rate'));
    }
    this.config = { ...this.config, learningRate };
  }

  /**
   * Applies one update with `grads[i]` for variable i. Does not take ownership of `grads`. Uses one
   * fused kernel for all variables where the backend has it (`wasm` with the project's kernels),
   * else tfjs ops; both give the same float32 results. `options.fused: false` forces the ops.
   */
  apply(grads: tf.Tensor[], options: { fused?: boolean } = {}): void {
    if (grads.length !== this.vars.length) {
      throw new InvalidConfigError(formatError('Optimizer.apply', `${this.vars.length} gradients`, `${grads.length}`, 'pass one gradient per variable, in variable order'));
    }
    this.step++;
    if (options.fused !== false && tf.getKernel(SLOT_UPDATE, tf.getBackend()) !== undefined) this.applyFused(grads);
    else this.applyOps(grads);
  }

  /** The update as tfjs ops (the reference semantics; any backend). */
  private applyOps(grads: tf.Tensor[]): void {
    const c = this.config;
    const t = this.step;
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) {
        const w = this.vars[i]!;
        const g = grads[i]!;
        const s = this.slots[i]!;
        if (c.kind === 'adam') {
          const m = s[0]!;
          const v = s[1]!;
          m.assign(tf.add(tf.mul(m, c.beta1), tf.mul(g, 1 - c.beta1)));
          v.assign(tf.add(tf.mul(v, c.beta2), tf.mul(tf.square(g), 1 - c.beta2)));
          w.assign(tf.sub(w, tf.mul(adamStepSize(c, t), tf.div(m, tf.add(tf.sqrt(v), c.epsilon)))));
        } else {
          const sq = s[0]!;
          const mean = s[1]!;
          sq.assign(tf.add(tf.mul(sq, c.decay), tf.mul(tf.square(g), 1 - c.decay)));
          mean.assign(tf.add(tf.mul(mean, c.decay), tf.mul(g, 1 - c.decay)));
          const denom = tf.add(tf.sqrt(tf.relu(tf.sub(sq, tf.square(mean)))), c.epsilon);
          let update = tf.mul(c.learningRate, tf.div(g, denom));
          if (c.momentum > 0) {
            const mom = s[2]!;
            mom.assign(tf.add(tf.mul(mom, c.momentum), update));
            update = mom;
          }
          w.assign(tf.sub(w, update));
        }
      }
    });
  }

  private applyFused(grads: tf.Tensor[]): void {
    const c = this.config;
    const inputs: Record<string, tf.Tensor> = {};
    for (let i = 0; i < this.vars.length; i++) {
      inputs[`w${i}`] = this.vars[i]!;
      inputs[`g${i}`] = grads[i]!;
      this.slots[i]!.forEach((s, j) => (inputs[`s${i}_${j}`] = s));
    }
    const count = this.vars.length;
    const attrs: SlotUpdateAttrs =
      c.kind === 'adam'
        ? { kind: 'adam', count, stepSize: adamStepSize(c, this.step), beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon }
        : { kind: 'rmsprop-centered', count, learningRate: c.learningRate, decay: c.decay, momentum: c.momentum, epsilon: c.epsilon };
    tf.tidy(() => {
      const outs = tf.engine().runKernel(SLOT_UPDATE, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      const per = this.slots[0]!.length + 1;
      for (let i = 0; i < count; i++) {
        this.vars[i]!.assign(outs[i * per]!);
        this.slots[i]!.forEach((s, j) => s.assign(outs[i * per + 1 + j]!));
      }
    });
  }

  /** Slot tensors in a fixed order (not copies: read them, do not dispose). */
  slotTensors(): tf.Variable[] {
    return this.slots.flat();
  }

  /** Restores slot values (same order and shapes as `slotTensors`) and the step count. */
  setSlots(values: Float32Array[], step: number): void {
    const flat = this.slotTensors();
    if (values.length !== flat.length) throw new InvalidConfigError(formatError('Optimizer.setSlots', `${flat.length} slot arrays`, `${values.length}`, 'load a checkpoint written with the same optimizer'));
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i]!;
      if (values[i]!.length !== v.size) throw new InvalidConfigError(formatError('Optimizer.setSlots', `slot ${i} with ${v.size} values`, `${values[i]!.length}`, 'load a checkpoint written with the same network'));
      tf.tidy(() => v.assign(tf.tensor(values[i]!, v.shape)));
    }
    this.step = step;
  }

  dispose(): void {
    for (const v of this.slotTensors()) v.dispose();
  }
}
