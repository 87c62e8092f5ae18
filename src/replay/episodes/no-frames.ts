/**
 * How a run folder says its game cannot draw: the runner writes `NO_FRAMES_MARKER` into a run whose
 * game has no render() (it trains and evaluates, but records no episodes); the viewer shows
 * `NO_FRAMES_LINE` for it. Only the marker's presence is read, never its contents.
 */
export const NO_FRAMES_MARKER = 'no-frames.txt';

/** The viewer's one line for a run whose game cannot draw. */
export const NO_FRAMES_LINE = 'no episodes: the game has no render(), so it cannot draw (learning curves only)';
