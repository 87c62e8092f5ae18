/**
 * Size limits of rendered frames, shared by the games (which reject options that would render
 * larger frames) and the episode format (which rejects files declaring larger frames), so that
 * every frame a game can render can also be recorded and read back.
 */

/** Largest width or height of a rendered frame, in pixels. */
export const MAX_FRAME_SIDE = 4096;
/** Largest rendered frame, in pixels (4096 x 4096: 48 MiB of RGB). */
export const MAX_FRAME_PIXELS = 1 << 24;

/** Describes why a `width` x `height` frame is too large, or returns null when it is within the limits. */
export function frameSizeProblem(width: number, height: number): string | null {
  if (!(width <= MAX_FRAME_SIDE && height <= MAX_FRAME_SIDE && width * height <= MAX_FRAME_PIXELS)) {
    return `rendered frame ${width}x${height} (at most ${MAX_FRAME_SIDE} pixels a side)`;
  }
  return null;
}
