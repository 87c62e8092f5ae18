/** Shapes of the viewer server's JSON answers that the browser app reads too (browser-safe: types only). */
import type { EpisodeSummary } from '../replay/episodes/summary.js';

export type RunKind = 'rl' | 'supervised' | 'episodes';

/** What `npcforge view` serves (`/api/source`): the kind of path it was given and the name shown for it. */
export interface ViewerSource {
  kind: 'runs' | 'run' | 'episodes' | 'episode';
  /** Base name of the folder or file (as a run name; never a full path). */
  name: string;
}

/** One row of `/api/runs/<run>/episodes`: the file, and its return and length or why they are unknown. */
export interface EpisodeRow {
  name: string;
  bytes: number;
  modified: string;
  /** From the file's header and end record; absent when `error` says why. */
  summary?: EpisodeSummary;
  /** One short line (no file contents): the file is not a whole episode. */
  error?: string;
}
