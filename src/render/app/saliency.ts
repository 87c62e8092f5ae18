/**
 * The viewer's saliency panel (its own bundle, dist/viewer/saliency.js, loaded when saliency is
 * first switched on: it carries TensorFlow.js). For the episode shown it loads the run's exported
 * policy bundle from the server (`api/runs/<run>/policy/`, as `loadPolicy` reads any bundle URL),
 * takes the observation stored with the frame (episodes recorded from a run store them) and draws
 * the map of src/runtime/saliency.ts over the frame: the same code, on the same `cpu` backend, as
 * in Node, so that the page shows the numbers a script computes.
 *
 * Grid to frame: the map covers the observation's H x W pixels; observation pixel (y, x) is drawn
 * over frame pixels [y * fh / H, (y + 1) * fh / H) x [x * fw / W, (x + 1) * fw / W) of the fw x fh
 * frame. This is exact for MinAtar (each of the 10 x 10 cells is drawn as a cellSize block) and
 * for pixel games whose observation is the rendered frame resized (the resize maps the whole frame).
 */
import * as tf from '@tensorflow/tfjs';
import { loadPolicy, loadValueModel } from '../../runtime/load-policy.js';
import type { Policy } from '../../runtime/policy.js';
import { computeSaliency, saliencyInput, saliencyTargetUnsupported, saliencyUnsupported, type SaliencyMap, type SaliencyNetwork, type SaliencyTarget } from '../../runtime/saliency.js';
import { $ } from './dom.js';
import { enc } from './net.js';
import type { SaliencyHost, SaliencyMethodName, SaliencyOutputName, SaliencyPanel, SaliencyRequest, SaliencyState, ShownFrame } from './saliency-host.js';

/** Maps kept (per run, episode, frame, method and output): seeking back shows a computed perturbation map at once. */
const CACHE_SIZE = 256;
/** Overlay colour (r, g, b); alpha is value x opacity. */
const COLOUR = '255, 48, 48';

/** A run's bundle: the policy, its critic when the bundle has one (else why not), or why nothing loads. */
type Loaded = { policy: Policy; net: SaliencyNetwork; valueProblem: string | null } | { status: 'unavailable' | 'error'; message: string };

/** Attaches the panel to the page; called once by main.ts after loading this bundle. */
export async function attach(host: SaliencyHost): Promise<SaliencyPanel> {
  // cpu: the backend Node falls back to, so the page's maps equal a script's (webgl computes in float16 on some GPUs).
  await tf.setBackend('cpu');
  const st: SaliencyState = { enabled: false, method: 'gradient', output: 'action', opacity: 0.6, status: 'off', message: '', map: null };
  const policies = new Map<string, Promise<Loaded>>();
  const cache = new Map<string, SaliencyMap>();
  let token = 0;
  let settled: Promise<void> = Promise.resolve();

  const canvas = document.createElement('canvas');
  canvas.id = 'saliency-canvas';
  canvas.hidden = true;
  host.stage.append(canvas);

  const on = $<HTMLInputElement>('sal-on');
  const method = $<HTMLSelectElement>('sal-method');
  const output = $<HTMLSelectElement>('sal-output');
  const opacity = $<HTMLInputElement>('sal-opacity');
  const compute = $<HTMLButtonElement>('sal-compute');

  const syncControls = (): void => {
    on.checked = st.enabled;
    method.value = st.method;
    output.value = st.output;
    opacity.value = String(st.opacity);
    $('sal-controls').hidden = !st.enabled;
    compute.hidden = !(st.enabled && st.status === 'idle');
    $('sal-note').textContent = st.message;
    host.setLink(st.enabled ? `saliency-${st.method}-${st.output}` : '');
  };
  const set = (status: SaliencyState['status'], message: string): void => {
    st.status = status;
    st.message = message;
    syncControls();
  };
  const clear = (): void => {
    canvas.hidden = true;
    st.map = null;
  };

  /** The run's bundle, loaded once per run (a missing or corrupt bundle is remembered as its message). */
  const policyOf = (run: string): Promise<Loaded> => {
    let p = policies.get(run);
    if (!p) {
      const base = `api/runs/${enc(run)}/policy/`;
      p = (async (): Promise<Loaded> => {
        const head = await fetch(`${base}policy.json`, { method: 'HEAD' }).catch(() => null);
        if (head && head.status === 404) return { status: 'unavailable', message: `Run ${run} has no exported policy: run \`npcforge export runs/${run}\` to see saliency maps.` };
        let policy: Policy;
        try {
          policy = await loadPolicy(base);
        } catch (err) {
          // loadPolicy's errors are one line and never quote the files.
          return { status: 'error', message: `The policy bundle of ${run} cannot be loaded: ${(err as Error).message}` };
        }
        // A broken critic costs the value maps only: the action maps still work.
        let valueModel: tf.LayersModel | null = null;
        let valueProblem: string | null = null;
        try {
          valueModel = await loadValueModel(base, policy.file);
        } catch (err) {
          valueProblem = `the value model of the bundle cannot be loaded: ${(err as Error).message}`;
        }
        return { policy, net: { file: policy.file, model: policy.model, valueModel }, valueProblem };
      })();
      policies.set(run, p);
    }
    return p;
  };

  const greedy = async (policy: Policy, x: Float32Array): Promise<number> => {
    const best = tf.tidy(() => tf.argMax(policy.model.predict(tf.tensor(x, [1, ...policy.file.observation.shape])) as tf.Tensor, 1));
    const a = (await best.data())[0]!;
    best.dispose();
    return a;
  };

  const draw = (map: SaliencyMap, f: ShownFrame): void => {
    const { ep, scale } = f;
    canvas.width = ep.width * scale;
    canvas.height = ep.height * scale;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const sx = (ep.width * scale) / map.width;
    const sy = (ep.height * scale) / map.height;
    for (let r = 0; r < map.rows; r++) {
      const y0 = Math.round(r * map.stride * sy);
      const y1 = Math.round(Math.min(map.height, (r + 1) * map.stride) * sy);
      for (let c = 0; c < map.cols; c++) {
        const v = map.values[r * map.cols + c]!;
        if (!(v > 0)) continue;
        const x0 = Math.round(c * map.stride * sx);
        const x1 = Math.round(Math.min(map.width, (c + 1) * map.stride) * sx);
        ctx.fillStyle = `rgba(${COLOUR}, ${(v * st.opacity).toFixed(4)})`;
        ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
      }
    }
    canvas.hidden = false;
  };

  /** Recomputes (or takes from the cache) the map of the shown frame; `now` computes a perturbation map. */
  const refresh = async (now = false): Promise<void> => {
    const mine = ++token;
    const stale = (): boolean => mine !== token;
    const f = host.shown();
    if (!st.enabled) return (clear(), set('off', ''));
    if (!f) return (clear(), set('unavailable', 'Open an episode to see its saliency.'));
    const { ep, run, episode, step } = f;
    if (!policies.has(run)) set('loading', `Loading the policy of ${run} ...`);
    const loaded = await policyOf(run);
    if (stale()) return;
    if (!('policy' in loaded)) return (clear(), set(loaded.status, loaded.message));
    const { policy } = loaded;
    const why = saliencyUnsupported(policy.file, policy.model);
    if (why) return (clear(), set('unavailable', `No saliency for run ${run}: ${why}.`));
    // Names from the files are shown only after the checks that bound them (game ids: at most 128 characters).
    if (policy.file.game.id !== ep.header.game.id) return (clear(), set('unavailable', `Episode ${episode} is a ${ep.header.game.id} episode; the policy of run ${run} plays ${policy.file.game.id.slice(0, 128)}.`));
    const o = ep.observations;
    if (!o) return (clear(), set('unavailable', `Episode ${episode} stores no observations: record episodes of this run with \`npcforge record ${ep.header.game.id} --policy runs/${run}\` to see saliency.`));
    const want = policy.file.observation.shape;
    if (o.shape.join('x') !== want.join('x')) return (clear(), set('unavailable', `Episode ${episode} stores observations of shape [${o.shape.join(', ')}], the policy reads [${want.join(', ')}]: record the episode from this run.`));
    const obs = ep.observation(step)!;
    let target: SaliencyTarget;
    let label: string;
    if (st.output === 'value') {
      target = { kind: 'value' };
      label = loaded.net.valueModel ? 'the value (critic)' : 'the value (max Q)';
    } else {
      const taken = step < ep.stepCount;
      const a = taken ? ep.actions[step]! : await greedy(policy, saliencyInput(policy.file, obs));
      if (stale()) return;
      target = { kind: 'action', action: a };
      label = `${policy.file.output === 'q' ? 'the Q-value' : 'the logit'} of ${policy.file.actions[a] ?? `#${a}`}${taken ? '' : ' (greedy: no action at the last frame)'}`;
    }
    const bad = (target.kind === 'value' ? loaded.valueProblem : null) ?? saliencyTargetUnsupported(loaded.net, target);
    if (bad) return (clear(), set('unavailable', `No ${st.output} saliency for run ${run}: ${bad}.`));
    const key = [run, episode, step, st.method, st.output].join('\u0000');
    let map = cache.get(key);
    if (!map) {
      if (st.method === 'perturbation' && !now) return (clear(), set('idle', `Perturbation saliency of ${label} is computed on demand (one forward pass per grid point): press compute.`));
      set('loading', `Computing ${st.method} saliency ...`);
      try {
        map = await computeSaliency(loaded.net, obs, target, { method: st.method });
      } catch (err) {
        if (!stale()) (clear(), set('error', (err as Error).message));
        return;
      }
      cache.set(key, map);
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
      if (stale()) return;
    }
    draw(map, f);
    st.map = { run, episode, frame: step, action: target.kind === 'action' ? target.action : null, rows: map.rows, cols: map.cols, stride: map.stride, height: map.height, width: map.width, values: Array.from(map.values), output: map.output };
    set('ready', `${st.method === 'gradient' ? 'Gradient' : 'Perturbation'} saliency of ${label} at frame ${step} (${map.rows}x${map.cols} grid over the ${map.height}x${map.width} observation).`);
  };

  /**
   * Runs a refresh after the one in progress; calls made while one is waiting join it (playing
   * an episode asks for every frame: only the newest is computed). Resolves when it is done.
   */
  let waiting: Promise<void> | null = null;
  let wantNow = false;
  const queue = (now = false): Promise<void> => {
    wantNow ||= now;
    if (waiting) return waiting;
    waiting = settled.then(async () => {
      waiting = null;
      const n = wantNow;
      wantNow = false;
      await refresh(n);
    }).catch((err: unknown) => set('error', (err as Error).message));
    settled = waiting;
    return waiting;
  };

  const apply = async (r: SaliencyRequest): Promise<SaliencyState> => {
    if (r.enabled !== undefined) st.enabled = r.enabled;
    if (r.method === 'gradient' || r.method === 'perturbation') st.method = r.method;
    if (r.output === 'action' || r.output === 'value') st.output = r.output;
    if (typeof r.opacity === 'number' && r.opacity >= 0 && r.opacity <= 1) st.opacity = r.opacity;
    syncControls();
    await queue(r.compute === true);
    return state();
  };
  const state = (): SaliencyState => ({ ...st, map: st.map && { ...st.map, values: [...st.map.values] } });

  on.addEventListener('change', () => void apply({ enabled: on.checked }));
  method.addEventListener('change', () => void apply({ method: method.value as SaliencyMethodName }));
  output.addEventListener('change', () => void apply({ output: output.value as SaliencyOutputName }));
  compute.addEventListener('click', () => void apply({ compute: true }));
  opacity.addEventListener('input', () => {
    st.opacity = Number(opacity.value);
    const f = host.shown();
    const key = st.map && f ? [st.map.run, st.map.episode, st.map.frame, st.method, st.output].join('\u0000') : '';
    const map = cache.get(key);
    if (map && f) draw(map, f);
  });
  host.onFrame(() => void queue());

  return {
    request: apply,
    state,
    fromLink: (segment) => {
      const [, m, o] = segment.split('-');
      return apply({ enabled: true, method: m === 'perturbation' ? 'perturbation' : 'gradient', output: o === 'value' ? 'value' : 'action' });
    },
  };
}
