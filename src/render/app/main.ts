/**
 * The replay viewer app (browser). Lists runs and episodes from the server's JSON API, plays an
 * episode with Pixi (one texture updated from the decoded RGB frame, nearest-neighbour integer
 * scaling), shows the agent overlays and the learning curves of one or several runs (curves.ts),
 * refreshed while runs train. Deep links: #<run>/<episode>/<step>, #compare/<metric>/<run,run,...>.
 */
import { Application, BufferImageSource, Sprite, Texture } from 'pixi.js';
import { readEpisode, type RecordedEpisode } from '../../replay/episodes/reader.js';
import { MAX_EPISODE_BYTES, type StepAnnotation } from '../../replay/episodes/format.js';
import { NO_FRAMES_LINE } from '../../replay/episodes/no-frames.js';
import { actionNamesByPart } from '../../envs/actions.js';
import { $, el, fmt } from './dom.js';
import { enc, fetchBounded, getJson } from './net.js';
import { showSupervised, supervisedStatus, type SupervisedStatus } from './supervised.js';
import { episodeMeta, renderEmptyState, type EpisodeListRow, type SourceInfo } from './lists.js';
import type { SaliencyHost, SaliencyPanel, SaliencyRequest, SaliencyState } from './saliency-host.js';
import { CurvePanel, type CurveRunInfo, type CurvesStatus } from './curves.js';
import { filterRuns, renderRunFilters, runRowExtras, seedsOf, type RunFilter } from './run-filters.js';

const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
/** Steps per second at speed 1x. */
const BASE_RATE = 15;
const MAX_STAGE = { width: 640, height: 480 };
/**
 * Live refresh: the run list (with each run's status) and the new bytes of the plotted metrics are
 * polled at this interval (ms) while the tab is visible. Polling rather than server-sent events: the
 * server stays stateless and watches no files (fs.watch misses writes on network file systems), and
 * a poll costs one cached listing plus one Range request per plotted run (416 when nothing is new).
 */
const POLL_MS = 2000;

/** How the actions of the open episode are shown (computed once per episode). */
type ActionView =
  | { kind: 'discrete'; names: readonly string[] }
  /** One title and one list of value names per part. */
  | { kind: 'multi-discrete'; parts: Array<{ title: string; labels: string[]; full: string[]; offset: number }> }
  /** One name and the bar's range per element: the Box bounds, or the recorded range (with 0) where a bound is infinite. */
  | { kind: 'box'; dims: Array<{ name: string; lo: number; hi: number }> };

/** The part's common `prefix:` of its names (tank: `move`), else `part <i>`. */
function partTitle(names: string[], i: number): { title: string; labels: string[] } {
  const colon = names[0]!.indexOf(':');
  const prefix = colon > 0 ? names[0]!.slice(0, colon + 1) : '';
  if (prefix && names.every((n) => n.startsWith(prefix) && n.length > prefix.length)) return { title: prefix.slice(0, -1), labels: names.map((n) => n.slice(prefix.length)) };
  return { title: `part ${i}`, labels: names };
}

function actionView(ep: RecordedEpisode): ActionView {
  const L = ep.actionLayout;
  const names = ep.header.actionNames;
  if (L.kind === 'multi-discrete') {
    let offset = 0;
    return {
      kind: 'multi-discrete',
      parts: actionNamesByPart(L.nvec!, names).map((full, i) => {
        const part = { ...partTitle(full, i), full, offset };
        offset += full.length;
        return part;
      }),
    };
  }
  if (L.kind === 'box') {
    const w = L.width;
    return {
      kind: 'box',
      dims: Array.from({ length: w }, (_, i) => {
        let lo = L.low![i]!;
        let hi = L.high![i]!;
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
          let min = 0;
          let max = 0;
          for (let t = 0; t < ep.stepCount; t++) (min = Math.min(min, ep.actions[t * w + i]!)), (max = Math.max(max, ep.actions[t * w + i]!));
          if (!Number.isFinite(lo)) lo = min;
          if (!Number.isFinite(hi)) hi = max;
        }
        return { name: names[i] ?? (w === 1 ? 'action' : `a${i}`), lo, hi };
      }),
    };
  }
  return { kind: 'discrete', names };
}

interface Current {
  run: string;
  episode: string;
  ep: RecordedEpisode;
  actions: ActionView;
  rgba: Uint8Array;
  source: BufferImageSource;
  sprite: Sprite;
  scale: number;
}

const state = {
  source: null as SourceInfo | null,
  runs: [] as Array<CurveRunInfo & { kind?: 'rl' | 'supervised' | 'episodes'; episodes: number; drawable?: boolean }>,
  filter: { game: '', agent: '' } as RunFilter,
  run: '' as string,
  episodes: [] as EpisodeListRow[],
  /** Which page the main area shows. */
  view: 'player' as 'player' | 'supervised' | 'empty',
  current: null as Current | null,
  step: 0,
  playing: false,
  speedIndex: 2,
  acc: 0,
  loadToken: 0,
  /** Time the last seek spent decoding the frame and drawing it (ms). */
  lastSeek: { decodeMs: 0, drawMs: 0 },
};

let app: Application;
let curves: CurvePanel;

function showError(message: string | null): void {
  const el = $('error');
  el.hidden = message === null;
  el.textContent = message ?? '';
}

/** Shows one page of the main area: the episode player (with the run's curve), a supervised run, or the empty state. */
function showView(view: 'player' | 'supervised' | 'empty'): void {
  state.view = view;
  $('rl-view').hidden = view !== 'player';
  $('supervised').hidden = view !== 'supervised';
  $('empty').hidden = view !== 'empty';
  $('episodes-panel').hidden = view === 'supervised';
}

function parseHash(): { run: string; episode: string; step: number } | null {
  const parts = location.hash.replace(/^#/, '').split('/');
  if (parts.length < 2 || !parts[0] || !parts[1]) return null;
  try {
    return { run: decodeURIComponent(parts[0]), episode: decodeURIComponent(parts[1]), step: Math.max(0, Number.parseInt(parts[2] ?? '0', 10) || 0) };
  } catch {
    return null;
  }
}

function writeHash(): void {
  const c = state.current;
  if (!c) return;
  history.replaceState(null, '', `#${enc(c.run)}/${enc(c.episode)}/${state.step}${saliencyLink ? `/${saliencyLink}` : ''}`);
}

// Saliency: the panel is its own bundle (it carries TensorFlow.js), loaded when first switched on.
/** Deep-link segment of the saliency panel (`saliency-<method>-<output>`), '' when off. */
let saliencyLink = '';
const frameListeners: Array<() => void> = [];
let saliencyPanel: Promise<SaliencyPanel> | null = null;

function loadSaliency(): Promise<SaliencyPanel> {
  saliencyPanel ??= (async () => {
    // A URL, not a module path: the page's bundle must not pull the panel (and tfjs) in.
    const mod = (await import(/* @vite-ignore */ new URL('saliency.js', document.baseURI).href)) as { attach(host: SaliencyHost): Promise<SaliencyPanel> };
    return mod.attach({
      shown: () => {
        const c = state.current;
        return c ? { run: c.run, episode: c.episode, ep: c.ep, step: state.step, scale: c.scale } : null;
      },
      onFrame: (listener) => frameListeners.push(listener),
      stage: $('stage'),
      setLink: (segment) => {
        saliencyLink = segment;
        if (!state.playing) writeHash();
      },
    });
  })();
  return saliencyPanel;
}

function renderRuns(): void {
  renderRunFilters(state.runs, state.filter, () => renderRuns());
  const ul = $('runs');
  ul.replaceChildren(
    ...filterRuns(state.runs, state.filter).map((r) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `#${enc(r.name)}`;
      a.textContent = r.name;
      a.className = r.name === state.run ? 'active' : '';
      a.addEventListener('click', (e) => {
        e.preventDefault();
        void selectRun(r.name);
      });
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent =
        r.kind === 'supervised'
          ? `supervised (fit)${r.metrics ? ', metrics' : ''}`
          : r.drawable === false
            ? `${NO_FRAMES_LINE}${r.metrics ? ', metrics' : ''}`
            : `${r.episodes} episode${r.episodes === 1 ? '' : 's'}${r.metrics ? ', metrics' : ''}`;
      if (r.kind === 'supervised') li.classList.add('supervised');
      li.append(a, meta);
      runRowExtras(li, r, curves.checked.has(r.name), (on) => curves.toggle(r.name, on));
      return li;
    }),
  );
}

function renderEpisodes(): void {
  const ul = $('episodes');
  ul.replaceChildren(
    ...state.episodes.map((e) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `#${enc(state.run)}/${enc(e.name)}/0`;
      a.textContent = e.name;
      a.className = state.current && state.current.run === state.run && state.current.episode === e.name ? 'active' : '';
      const meta = document.createElement('div');
      meta.className = e.error ? 'meta ep-error' : 'meta';
      meta.textContent = episodeMeta(e);
      li.append(a, meta);
      return li;
    }),
  );
}

async function selectRun(run: string): Promise<void> {
  if (state.run === run && (state.episodes.length || state.view === 'supervised')) return;
  const previous = state.run;
  state.run = run;
  renderRuns();
  // A listing error of the run left behind is not this run's.
  if (previous !== run) showError(null);
  if (state.runs.find((r) => r.name === run)?.kind === 'supervised') {
    state.episodes = [];
    renderEpisodes();
    unloadEpisode();
    showView('supervised');
    await showSupervised(run);
    return;
  }
  showView('player');
  // A folder of episodes or one file has no learning curve to show.
  $('curve').hidden = state.runs.find((r) => r.name === run)?.kind === 'episodes';
  try {
    state.episodes = await getJson(`api/runs/${enc(run)}/episodes`);
  } catch (err) {
    state.episodes = [];
    showError(`Could not list the episodes of ${run}: ${(err as Error).message}`);
  }
  renderEpisodes();
  curves.setFocus(run);
}

/** The compare deep link of the runs plotted, when runs are ticked (else the episode link stays). */
function writeCompareHash(): void {
  if (!curves.checked.size || !curves.currentMetric) return;
  history.replaceState(null, '', `#compare/${enc(curves.currentMetric)}/${[...curves.checked].map(enc).join(',')}`);
}

/** One live refresh: the run list and statuses, the selected run's new episodes, the plotted runs' new metrics. */
async function poll(): Promise<void> {
  let runs: typeof state.runs;
  try {
    runs = await getJson('api/runs');
  } catch {
    return;
  }
  const before = new Map(state.runs.map((r) => [r.name, JSON.stringify(r)]));
  const changed = runs.length !== state.runs.length || runs.some((r) => before.get(r.name) !== JSON.stringify(r));
  const episodesBefore = state.runs.find((r) => r.name === state.run)?.episodes;
  state.runs = runs;
  curves.setRunInfo(runs);
  if (changed) renderRuns();
  const now = runs.find((r) => r.name === state.run);
  if (now && now.episodes !== episodesBefore) {
    try {
      state.episodes = await getJson(`api/runs/${enc(state.run)}/episodes`);
      renderEpisodes();
    } catch {
      // The next poll tries again.
    }
  }
  await curves.refresh();
}

function startPolling(): void {
  let busy = false;
  setInterval(() => {
    if (busy || document.hidden) return;
    busy = true;
    void poll().finally(() => (busy = false));
  }, POLL_MS);
}

/** Loads an episode; a bad file shows its error and leaves the rest of the page working. */
async function openEpisode(run: string, episode: string, step: number): Promise<void> {
  await selectRun(run);
  const c = state.current;
  if (c && c.run === run && c.episode === episode) {
    seek(step);
    return;
  }
  const token = ++state.loadToken;
  setPlaying(false);
  $('title').textContent = `Loading ${run} / ${episode} ...`;
  let ep: RecordedEpisode;
  try {
    const { bytes } = await fetchBounded(`api/runs/${enc(run)}/episodes/${enc(episode)}`, MAX_EPISODE_BYTES, 'the episode file');
    ep = readEpisode(bytes, { source: `${episode}.npcep` });
  } catch (err) {
    if (token !== state.loadToken) return;
    // The canvas is cleared too: the frame of the episode shown before must not pass for this one's.
    unloadEpisode();
    $('title').textContent = `${run} / ${episode}`;
    showError(`Could not open episode "${episode}" of run "${run}": ${(err as Error).message}`);
    renderEpisodes();
    return;
  }
  if (token !== state.loadToken) return;
  showError(null);
  unloadEpisode();
  const { width, height } = ep;
  const scale = Math.max(1, Math.floor(Math.min(MAX_STAGE.width / width, MAX_STAGE.height / height)));
  const rgba = new Uint8Array(width * height * 4);
  ep.frameRgba(0, rgba);
  const source = new BufferImageSource({ resource: rgba, width, height, scaleMode: 'nearest', antialias: false, autoGenerateMipmaps: false });
  const sprite = new Sprite(new Texture({ source }));
  sprite.scale.set(scale);
  app.renderer.resize(width * scale, height * scale);
  app.stage.addChild(sprite);
  state.current = { run, episode, ep, actions: actionView(ep), rgba, source, sprite, scale };
  const h = ep.header;
  // Multi-agent episodes: every agent's return (the learner's is the episode's).
  const returns = ep.agents ? `returns ${ep.agents.map((a) => `${a.name} ${fmt(a.returns[ep.frameCount - 1]!)}`).join(', ')}` : `return ${ep.returns[ep.frameCount - 1]}`;
  $('title').textContent = `${run} / ${episode}: ${h.game.id}${ep.agents ? ` (${ep.agents.length} agents)` : ''}, seed ${h.seed ?? '-'}, ${ep.stepCount} steps, ${returns}${ep.end ? '' : ' (incomplete recording)'}`;
  const scrub = $<HTMLInputElement>('scrub');
  scrub.max = String(ep.frameCount - 1);
  renderEpisodes();
  seek(step);
}

function unloadEpisode(): void {
  const c = state.current;
  if (!c) return;
  // Not setPlaying(false): that writes the hash of the episode going away.
  state.playing = false;
  app.ticker.stop();
  $('btn-play').textContent = 'play';
  app.stage.removeChild(c.sprite);
  c.sprite.destroy({ texture: true, textureSource: true });
  state.current = null;
  state.step = 0;
  // Draw the empty stage: the canvas keeps its last picture otherwise (preserveDrawingBuffer).
  app.render();
  $<HTMLInputElement>('scrub').max = '0';
  updateOverlay();
  for (const f of frameListeners) f();
}

/** Shows frame k (clamped) and refreshes overlays; returns the frame shown. */
function seek(k: number): number {
  const c = state.current;
  if (!c) return 0;
  const step = Math.min(Math.max(0, Math.round(k)), c.ep.frameCount - 1);
  state.step = step;
  const t0 = performance.now();
  c.ep.frameRgba(step, c.rgba);
  const t1 = performance.now();
  c.source.update();
  app.render();
  state.lastSeek = { decodeMs: t1 - t0, drawMs: performance.now() - t1 };
  updateOverlay();
  for (const f of frameListeners) f();
  if (!state.playing) writeHash();
  return step;
}

function updateOverlay(): void {
  const c = state.current;
  const scrub = $<HTMLInputElement>('scrub');
  if (!c) {
    for (const id of ['ov-step', 'ov-action', 'ov-reward', 'ov-return', 'ov-value', 'ov-status']) $(id).textContent = '-';
    $('ov-bars').replaceChildren();
    $('ov-bars-title').textContent = '';
    $('ov-act').replaceChildren();
    $('ov-agents').replaceChildren();
    $('pos').textContent = '0 / 0';
    scrub.value = '0';
    return;
  }
  const { ep } = c;
  const k = state.step;
  const names = ep.header.actionNames;
  const last = ep.frameCount - 1;
  $('ov-step').textContent = `${k} / ${last}`;
  $('pos').textContent = `${k} / ${last}`;
  scrub.value = String(k);
  const multi = ep.agents !== null;
  $('ov-single').hidden = multi;
  $('ov-single-bars').hidden = multi;
  $('ov-agents').hidden = !multi;
  const term = k > 0 && ep.terminated[k - 1] === 1;
  const trunc = k > 0 && ep.truncated[k - 1] === 1;
  if (multi) {
    // The episode's status is the game's (each panel has its agent's): the single-agent flags are the learner's only.
    const ended = k > 0 && k === last;
    $('ov-status').textContent = !ended ? 'running' : ep.agents!.some((a) => a.terminated[k - 1] === 1) ? 'terminated' : 'truncated';
    showAgents(ep, k);
    return;
  }
  // The action shown at frame k is the one taken from it (step k). `chosen`: the flat action indices taken (bars).
  const chosen = showAction(c, k);
  $('ov-reward').textContent = k > 0 ? fmt(ep.rewards[k - 1]!) : '-';
  $('ov-return').textContent = fmt(ep.returns[k]!);
  const ann = k < ep.stepCount ? ep.annotation(k) : undefined;
  $('ov-value').textContent = ann?.value !== undefined ? ann.value.toFixed(3) : '-';
  $('ov-status').textContent = term ? 'terminated' : trunc ? 'truncated' : k === last && !ep.end ? 'recording cut' : 'running';
  $('ov-bars-title').textContent = barsTitle(ann);
  $('ov-bars').replaceChildren(...valueBars(ann, names, chosen));
}

/** The heading of an annotation's bars: what they show. */
function barsTitle(ann: StepAnnotation | undefined): string {
  return ann?.q ? 'Q-values' : ann?.probs ? 'action probabilities' : '';
}

/**
 * One bar per action of an annotation's Q-values (from min(0, q) to max q) or probabilities (0 to
 * 1), the actions in `chosen` highlighted; none without an annotation.
 */
function valueBars(ann: StepAnnotation | undefined, names: readonly string[], chosen: readonly number[]): HTMLElement[] {
  const values = ann?.q ? Array.from(ann.q) : ann?.probs ? Array.from(ann.probs) : undefined;
  if (!values) return [];
  const lo = ann?.q ? Math.min(0, ...values) : 0;
  const hi = ann?.q ? Math.max(...values) : 1;
  const span = hi - lo || 1;
  return values.map((v, a) => {
    const row = el('div', chosen.includes(a) ? 'bar chosen' : 'bar');
    const track = el('span', 'track');
    const fill = el('span', 'fill');
    fill.style.width = `${(((v - lo) / span) * 100).toFixed(1)}%`;
    track.append(fill);
    row.append(el('span', 'name', names[a] ?? `#${a}`), track, el('span', 'num', v.toFixed(3)));
    return row;
  });
}

const labelRow = (label: string, value: string): HTMLElement => {
  const r = el('div', 'row');
  r.append(el('span', 'label', label), el('span', 'value', value));
  return r;
};

/**
 * Multi-agent episodes: one panel per agent (its name, who controlled it, the learner marked), with
 * the action it took from frame k, its reward and return, its value and its bars.
 */
function showAgents(ep: RecordedEpisode, k: number): void {
  $('ov-agents').replaceChildren(
    ...ep.agents!.map((a, i) => {
      const panel = el('div', 'agent-panel');
      panel.dataset.agent = a.name;
      const head = el('div', 'agent-head');
      head.append(el('span', 'agent-name', a.name), el('span', 'agent-controller', `${a.controller}${ep.learner === a.name ? ' (learner)' : ''}`));
      const acting = k < ep.stepCount && a.acted[k] === 1;
      const action = k >= ep.stepCount ? '(episode over)' : acting ? (a.actionNames[a.actions[k]!] ?? `#${a.actions[k]}`) : '(done)';
      const ann = acting ? ep.agentAnnotation(i, k) : undefined;
      const rewardShown = k > 0 && a.acted[k - 1] === 1;
      // Done at step k - 1 (terminated or truncated), or at an earlier step.
      const status = k === 0 || a.acted[k - 1] === 1 ? (k > 0 && a.terminated[k - 1] ? 'terminated' : k > 0 && a.truncated[k - 1] ? 'truncated' : 'running') : 'done';
      const bars = el('div', 'bars');
      bars.append(...valueBars(ann, a.actionNames, acting ? [a.actions[k]!] : []));
      panel.append(
        head,
        labelRow('action', action),
        labelRow('reward', rewardShown ? fmt(a.rewards[k - 1]!) : '-'),
        labelRow('return', fmt(a.returns[k]!)),
        labelRow('value', ann?.value !== undefined ? ann.value.toFixed(3) : '-'),
        labelRow('status', status),
        el('div', 'bars-title', barsTitle(ann)),
        bars,
      );
      return panel;
    }),
  );
}

/**
 * Writes the action of step k: the `#ov-action` line, and for MultiDiscrete one label per part,
 * for Box one number and one bar per element (the bar spans the bounds; a tick marks 0, the fill
 * runs from 0 to the value). Returns the flat indices of the actions taken (none past the end).
 */
function showAction(c: Current, k: number): number[] {
  const { ep, actions: view } = c;
  const box = $('ov-act');
  if (k >= ep.stepCount) {
    $('ov-action').textContent = '(episode over)';
    box.replaceChildren();
    return [];
  }
  if (view.kind === 'discrete') {
    const a = ep.actions[k]!;
    $('ov-action').textContent = view.names[a] ?? `#${a}`;
    box.replaceChildren();
    return [a];
  }
  const row = ep.action(k) as Int32Array | Float32Array;
  if (view.kind === 'multi-discrete') {
    $('ov-action').textContent = view.parts.map((p, i) => p.full[row[i]!] ?? `${i}:${row[i]}`).join(', ');
    box.replaceChildren(...view.parts.map((p, i) => {
      const r = el('div', 'act-part');
      r.append(el('span', 'name', p.title), el('span', 'label', p.labels[row[i]!] ?? String(row[i])));
      return r;
    }));
    return view.parts.map((p, i) => p.offset + row[i]!);
  }
  $('ov-action').textContent = Array.from(row, (v) => v.toFixed(3)).join(', ');
  box.replaceChildren(...view.dims.map((d, i) => {
    const v = row[i]!;
    const span = d.hi - d.lo || 1;
    // Positions in % of the track; values outside the bounds (the env clips them) pin to the ends.
    const at = (x: number): number => Math.min(100, Math.max(0, ((x - d.lo) / span) * 100));
    const zero = at(0);
    const r = el('div', 'bar act-dim');
    const track = el('span', 'track');
    const fill = el('span', 'fill');
    fill.style.left = `${Math.min(zero, at(v)).toFixed(1)}%`;
    fill.style.width = `${Math.abs(at(v) - zero).toFixed(1)}%`;
    const tick = el('span', 'zero');
    tick.style.left = `${zero.toFixed(1)}%`;
    tick.hidden = !(d.lo <= 0 && 0 <= d.hi);
    track.append(fill, tick);
    track.title = `${fmt(d.lo)} .. ${fmt(d.hi)}`;
    r.append(el('span', 'name', d.name), track, el('span', 'num', v.toFixed(3)));
    return r;
  }));
  return [];
}

function setPlaying(on: boolean): void {
  const c = state.current;
  state.playing = on && !!c;
  if (state.playing && c && state.step >= c.ep.frameCount - 1) seek(0);
  state.acc = 0;
  // The ticker runs only while playing: a paused viewer costs no CPU.
  if (state.playing) app.ticker.start();
  else app.ticker.stop();
  $('btn-play').textContent = state.playing ? 'pause' : 'play';
  if (!state.playing) writeHash();
}

function setSpeed(i: number): void {
  state.speedIndex = Math.min(SPEEDS.length - 1, Math.max(0, i));
  $<HTMLSelectElement>('speed').value = String(state.speedIndex);
}

function tick(deltaMs: number): void {
  const c = state.current;
  if (!state.playing || !c) return;
  state.acc += deltaMs;
  const interval = 1000 / (BASE_RATE * SPEEDS[state.speedIndex]!);
  if (state.acc < interval) return;
  const n = Math.floor(state.acc / interval);
  state.acc -= n * interval;
  const shown = seek(state.step + n);
  if (shown >= c.ep.frameCount - 1) setPlaying(false);
}

async function route(): Promise<void> {
  if (state.view === 'empty') return;
  const compare = /^#compare\/([^/]*)\/(.+)$/.exec(location.hash);
  if (compare) {
    try {
      const runs = compare[2]!.split(',').map(decodeURIComponent).filter((r) => state.runs.some((x) => x.name === r));
      curves.compare(runs, decodeURIComponent(compare[1]!) || undefined);
      if (runs[0] && state.run !== runs[0]) await selectRun(runs[0]);
      renderRuns();
    } catch {
      showError('Could not read the compare link: expected #compare/<metric>/<run,run,...>');
    }
    return;
  }
  const h = parseHash();
  const extra = location.hash.replace(/^#/, '').split('/')[3] ?? '';
  if (h) {
    await openEpisode(h.run, h.episode, h.step);
    if (extra.startsWith('saliency-') && extra !== saliencyLink) await (await loadSaliency()).fromLink(extra);
  } else {
    const run = decodeURIComponent(location.hash.replace(/^#/, '').split('/')[0] ?? '');
    if (run) await selectRun(run);
  }
}

function bindControls(): void {
  const speed = $<HTMLSelectElement>('speed');
  speed.replaceChildren(
    ...SPEEDS.map((s, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = `${s}x`;
      return o;
    }),
  );
  setSpeed(state.speedIndex);
  speed.addEventListener('change', () => setSpeed(Number(speed.value)));
  $('btn-play').addEventListener('click', () => setPlaying(!state.playing));
  $('btn-back').addEventListener('click', () => {
    setPlaying(false);
    seek(state.step - 1);
  });
  $('btn-fwd').addEventListener('click', () => {
    setPlaying(false);
    seek(state.step + 1);
  });
  const scrub = $<HTMLInputElement>('scrub');
  scrub.addEventListener('input', () => {
    setPlaying(false);
    seek(Number(scrub.value));
  });
  window.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLSelectElement || (e.target instanceof HTMLInputElement && e.target.type !== 'range')) return;
    const jump = e.shiftKey ? 10 : 1;
    if (e.key === ' ') setPlaying(!state.playing);
    else if (e.key === 'ArrowRight') {
      setPlaying(false);
      seek(state.step + jump);
    } else if (e.key === 'ArrowLeft') {
      setPlaying(false);
      seek(state.step - jump);
    } else if (e.key === '+' || e.key === '=') setSpeed(state.speedIndex + 1);
    else if (e.key === '-' || e.key === '_') setSpeed(state.speedIndex - 1);
    else if (e.key === 'Home') seek(0);
    else if (e.key === 'End') seek(Number.MAX_SAFE_INTEGER);
    else return;
    e.preventDefault();
  });
  window.addEventListener('hashchange', () => void route());
  // The panel binds its own controls once loaded; this first switch-on loads it.
  $<HTMLInputElement>('sal-on').addEventListener('change', () => void loadSaliency().then((p) => p.request({ enabled: $<HTMLInputElement>('sal-on').checked })), { once: true });
}

/** Hooks for tests and automation (the browser tests drive the page through it). */
export interface ViewerHandle {
  seek(k: number): number;
  status(): { run: string; episode: string; step: number; frameCount: number; playing: boolean; scale: number; speed: number; lastSeek: { decodeMs: number; drawMs: number } } | null;
  /** Blocks until the GPU has finished drawing (gl.finish): lets a benchmark time a seek end to end. */
  finish(): void;
  /** The page shown (`player`, `supervised`, `empty`), the selected run and the error banner's text (null when hidden). */
  page(): { view: 'player' | 'supervised' | 'empty'; run: string; error: string | null };
  /** What the supervised run page shows (null before one is loaded). */
  supervised(): SupervisedStatus | null;
  /** Loads the saliency panel when needed, applies `request` and resolves with its state once the map (or the reason there is none) is shown. */
  saliency(request?: SaliencyRequest): Promise<SaliencyState>;
  ready: Promise<void>;
  /** The learning-curve panel: runs shown, points, skipped values, band and legend. */
  curves(): CurvesStatus;
  /** Runs one live refresh now (the page also polls every POLL_MS). */
  poll(): Promise<void>;
}

/** How often the empty state looks for a first run (ms). */
const EMPTY_POLL_MS = 2000;

/** While the empty state shows, looks for runs now and then and starts over once there is one (a training just begun). */
function waitForRuns(): void {
  const timer = setInterval(() => {
    getJson<unknown[]>('api/runs').then(
      (runs) => {
        if (runs.length === 0) return;
        clearInterval(timer);
        location.reload();
      },
      () => undefined,
    );
  }, EMPTY_POLL_MS);
}

async function start(): Promise<void> {
  app = new Application();
  await app.init({ width: 320, height: 240, preference: 'webgl', background: '#000000', antialias: false, resolution: 1, autoDensity: false, preserveDrawingBuffer: true, autoStart: false });
  $('stage').append(app.canvas);
  app.ticker.add((t) => tick(t.deltaMS));
  bindControls();
  try {
    state.source = await getJson<SourceInfo>('api/source');
    state.runs = await getJson('api/runs');
  } catch (err) {
    showError(`Could not list runs: ${(err as Error).message}`);
  }
  curves.setRunInfo(state.runs);
  renderRuns();
  $('btn-all-seeds').addEventListener('click', () => {
    const seeds = seedsOf(state.runs, state.run);
    if (seeds.length) curves.compare(seeds);
    renderRuns();
  });
  $('btn-only-run').addEventListener('click', () => {
    curves.compare([]);
    renderRuns();
  });
  if (state.source && state.runs.length === 0) {
    renderEmptyState($('empty'), state.source);
    showView('empty');
    waitForRuns();
    return;
  }
  if (!location.hash && state.runs.length) {
    await selectRun(state.runs[0]!.name);
    // `view <file.npcep>`: the one episode opens at once.
    if (state.source?.kind === 'episode' && state.episodes.length === 1) {
      location.hash = `#${enc(state.run)}/${enc(state.episodes[0]!.name)}/0`;
      return;
    }
  }
  await route();
  startPolling();
}

curves = new CurvePanel(() => writeCompareHash());
const ready = start().catch((err: unknown) => showError(`The viewer failed to start: ${(err as Error).message}`));
const handle: ViewerHandle = {
  seek,
  status: () => {
    const c = state.current;
    return c ? { run: c.run, episode: c.episode, step: state.step, frameCount: c.ep.frameCount, playing: state.playing, scale: c.scale, speed: SPEEDS[state.speedIndex]!, lastSeek: { ...state.lastSeek } } : null;
  },
  finish: () => (app.renderer as unknown as { gl?: WebGLRenderingContext }).gl?.finish(),
  page: () => ({ view: state.view, run: state.run, error: $('error').hidden ? null : $('error').textContent }),
  supervised: () => (state.view === 'supervised' ? supervisedStatus() : null),
  saliency: async (request = {}) => (await loadSaliency()).request(request),
  ready: ready.then(() => undefined),
  curves: () => curves.status(),
  poll,
};
(window as unknown as { npcforgeViewer: ViewerHandle }).npcforgeViewer = handle;
