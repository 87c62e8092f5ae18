/** What every agent shares: action distributions (more of the policy layer follows in issue 15). */
export {
  Categorical,
  DiagGaussian,
  MultiCategorical,
  TanhGaussian,
  clipToBox,
  type ActionBounds,
  type ActionDistribution,
} from './distributions.js';
