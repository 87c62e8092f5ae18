/** The check every agent's update runs on what it reads back anyway: a non-finite loss or gradient stops training. */
import { TrainingDivergedError, formatError } from '../errors.js';

/**
 * Throws TrainingDivergedError when the loss or the global gradient norm of an update is NaN or
 * infinite: from there on the weights are NaN or meaningless, and a run that went on would save
 * them and exit 0. Checked on numbers the update reads back already, so it costs nothing.
 */
export function checkFiniteUpdate(component: string, metrics: { loss: number; gradNorm: number }, update: number): void {
  if (Number.isFinite(metrics.loss) && Number.isFinite(metrics.gradNorm)) return;
  throw new TrainingDivergedError(
    formatError(
      component,
      'a finite loss and gradient norm',
      `loss ${metrics.loss}, gradient norm ${metrics.gradNorm} at update ${update} (training diverged)`,
      'lower the learning rate, clip gradients (gradClipNorm / maxGradNorm) or scale rewards down, then start again or resume from an earlier checkpoint',
    ),
  );
}
