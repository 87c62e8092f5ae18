import { describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';

/**
 * The problem with a square `renderSize` option (an integer >= 16 whose frame the episode and
 * bundle readers accept: options can come from files), or null when it is fine.
 */
export function renderSizeProblem(renderSize: unknown): string | null {
  if (!Number.isInteger(renderSize) || (renderSize as number) < 16) return `renderSize ${describe(renderSize)}`;
  const tooLarge = frameSizeProblem(renderSize as number, renderSize as number);
  return tooLarge ? `renderSize ${renderSize}: ${tooLarge}` : null;
}
