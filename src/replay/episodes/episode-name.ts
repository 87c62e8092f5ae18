/**
 * One naming scheme for every recorded episode file (record, eval episodes of train, the
 * RecordEpisode wrapper's default): `<source>-s<seed>-e<index>`, index zero-padded to 3 digits so
 * the files of one recording sort in order. `<source>` says what played: the game id for a simple
 * policy (`catch-s0-e000`), `record-step<N>` for `npcforge record --policy <run>`, `eval-step<N>`
 * for the evaluation episodes a training run records. An unseeded reset leaves out the `-s<seed>`.
 */

/** Slug of a game id for file and folder names: `minatar/breakout` -> `minatar-breakout` (as run folders). */
export function gameSlug(gameId: string): string {
  return gameId.replace(/\//g, '-');
}

/** File name (without extension) of a recorded episode. */
export function episodeName(options: { source: string; seed: number | null; index: number }): string {
  const seed = options.seed === null ? '' : `-s${options.seed}`;
  return `${options.source}${seed}-e${String(options.index).padStart(3, '0')}`;
}
