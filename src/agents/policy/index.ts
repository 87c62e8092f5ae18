/**
 * What every agent shares: action distributions here, the snapshot format in `snapshot.ts`. The encoders (one auto
 * rule) live with the model builders in `src/networks/encoders.ts`, the optimizer step
 * (`applyGradients`: one global-norm clip, then the fused `SlotOptimizer`) in
 * `src/networks/optimizers.ts`.
 */
export {
  Categorical,
  DiagGaussian,
  MultiCategorical,
  TanhGaussian,
  clipToBox,
  type ActionBounds,
  type ActionDistribution,
} from './distributions.js';
