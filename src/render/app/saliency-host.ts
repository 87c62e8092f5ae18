/**
 * What the viewer page hands the saliency panel (saliency.ts, a bundle of its own loaded on
 * demand: it carries TensorFlow.js, which the page does not need until saliency is switched on).
 * Types only, so that the page's bundle stays free of the panel's code.
 */
import type { RecordedEpisode } from '../../replay/episodes/reader.js';

/** The episode open on the page and the frame shown. */
export interface ShownFrame {
  run: string;
  episode: string;
  ep: RecordedEpisode;
  /** Frame index shown. */
  step: number;
  /** Screen pixels per frame pixel. */
  scale: number;
}

export interface SaliencyHost {
  /** The open episode and frame, or null. */
  shown(): ShownFrame | null;
  /** Registers a listener called after every frame change (and when the episode closes). */
  onFrame(listener: () => void): void;
  /** The element holding the game canvas; the overlay canvas goes on top of it. */
  stage: HTMLElement;
  /** Sets the deep-link segment after `#<run>/<episode>/<step>` ('' for none). */
  setLink(segment: string): void;
}

export type SaliencyMethodName = 'gradient' | 'perturbation';
/** `action`: the Q-value or logit of the action taken at the frame; `value`: the state value. */
export type SaliencyOutputName = 'action' | 'value';

/** What a script (tests, screenshots) may set; missing fields keep their value. */
export interface SaliencyRequest {
  enabled?: boolean;
  method?: SaliencyMethodName;
  output?: SaliencyOutputName;
  /** Overlay opacity in [0, 1]. */
  opacity?: number;
  /** Perturbation only: compute the map of the shown frame now (it is computed on demand). */
  compute?: boolean;
}

/** The panel's state, as `window.npcforgeViewer.saliency()` returns it. */
export interface SaliencyState {
  enabled: boolean;
  method: SaliencyMethodName;
  output: SaliencyOutputName;
  opacity: number;
  /** `off`, `loading`, `ready` (a map is drawn), `idle` (perturbation waiting for compute), `unavailable` (the message says why), `error`. */
  status: 'off' | 'loading' | 'ready' | 'idle' | 'unavailable' | 'error';
  /** The panel's one-line note (why nothing is drawn, or what is). */
  message: string;
  /** The drawn map: frame, explained action (null for value), grid and normalised values. */
  map: { run: string; episode: string; frame: number; action: number | null; rows: number; cols: number; stride: number; height: number; width: number; values: number[]; output: number } | null;
}

/** The panel module's entry point (saliency.ts). */
export interface SaliencyPanel {
  /** Applies `request` and resolves once the panel is settled (map drawn or message shown). */
  request(r: SaliencyRequest): Promise<SaliencyState>;
  state(): SaliencyState;
  /** Applies a deep-link segment (`saliency-<method>-<output>`). */
  fromLink(segment: string): Promise<SaliencyState>;
}
