/**
 * Pong against an exported NPC policy, in the browser: the game is games/pong (two-player mode),
 * the NPC is npcforge/runtime's `loadPolicy` on the bundle served at `./npc/` (or `?npc=<url>`),
 * drawing is Pixi. The person holds the left paddle (player 1), the NPC the right one (player 0,
 * whose view the game's observation is). `?npc=noop` plays a do-nothing NPC (a baseline);
 * `?fps=` sets the game speed. With `?level=<name>` the source is a ladder folder (`npcforge
 * export --ladder`): a level picker lists its levels and picking one swaps the NPC and starts a
 * new game. `window.pongDemo` exposes the trace for tests.
 */
import * as tf from '@tensorflow/tfjs';
import { Application, BufferImageSource, Sprite, Texture } from 'pixi.js';
import { PongEnv, type PongOptions } from '../../games/pong/pong.js';
import { loadLadder, loadPolicy, type Ladder, type Policy } from '../../src/runtime/index.js';

interface TraceStep {
  ballX: number;
  ballY: number;
  ballVx: number;
  paddleY: number;
  npcAction: number;
  /** The ladder level playing (null without a ladder). */
  level: string | null;
}

const params = new URLSearchParams(location.search);
const npcSource = params.get('npc') ?? './npc/';
const fps = Math.min(240, Math.max(1, Number(params.get('fps') ?? 30)));
const trace: TraceStep[] = [];
const keys = new Set<string>();
const levelParam = params.get('level');
const demo = { ready: false, trace, score: [0, 0], config: null as PongOptions | null, error: null as string | null, levels: [] as string[], level: null as string | null };
(globalThis as unknown as { pongDemo: typeof demo }).pongDemo = demo;

function $(id: string): HTMLElement {
  return document.getElementById(id)!;
}

function humanAction(): number {
  const up = keys.has('ArrowUp') || keys.has('w');
  const down = keys.has('ArrowDown') || keys.has('s');
  return up === down ? 0 : up ? 1 : 2;
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  let policy: Policy | null = null;
  let options: PongOptions = {};
  let ladder: Ladder | null = null;
  // A level picked in the <select>: swapped in by the next tick, between two steps.
  let pendingLevel: string | null = null;
  if (levelParam !== null) {
    ladder = await loadLadder(npcSource, { game: 'pong' });
    demo.level = ladder.resolve(levelParam);
    demo.levels = ladder.levels;
    policy = await ladder.load(demo.level);
    showPicker(ladder, demo.level, (name) => (pendingLevel = name));
  } else if (npcSource !== 'noop') {
    policy = await loadPolicy(npcSource, { game: 'pong' });
  }
  if (policy) {
    const { trackReward: _shaping, mode: _mode, ...rest } = policy.file.game.options as PongOptions;
    options = rest;
  }
  const env = new PongEnv({ ...options, mode: 'two-player' });
  demo.config = env.config;
  let obs: ArrayLike<number> = env.reset({ seed: Number(params.get('seed') ?? 0) }).obs;

  const app = new Application();
  await app.init({ width: 10, height: 10, preference: 'webgl', background: '#000000', antialias: false, autoStart: false });
  $('stage').appendChild(app.canvas);
  let frame = env.render();
  const rgba = new Uint8Array(frame.width * frame.height * 4);
  const source = new BufferImageSource({ resource: rgba, width: frame.width, height: frame.height, scaleMode: 'nearest', antialias: false, autoGenerateMipmaps: false });
  app.stage.addChild(new Sprite(new Texture({ source })));
  app.renderer.resize(frame.width, frame.height);
  const draw = (): void => {
    const d = frame.data;
    for (let i = 0, j = 0; i < d.length; i += 3, j += 4) {
      rgba[j] = d[i]!;
      rgba[j + 1] = d[i + 1]!;
      rgba[j + 2] = d[i + 2]!;
      rgba[j + 3] = 255;
    }
    source.update();
    app.render();
  };
  draw();
  addEventListener('keydown', (e) => keys.add(e.key));
  addEventListener('keyup', (e) => keys.delete(e.key));
  demo.ready = true;
  const describeNpc = (): string => (policy ? `NPC${demo.level ? ` ${demo.level}` : ''}: ${policy.file.agent} policy trained ${policy.file.training.checkpoint ?? '?'} steps (eval return ${policy.file.evalReturn ?? '-'})` : 'NPC: no-op baseline');
  $('status').textContent = describeNpc();

  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      if (ladder && pendingLevel !== null && pendingLevel !== demo.level) {
        const next = await ladder.load(pendingLevel);
        policy?.dispose();
        policy = next;
        demo.level = pendingLevel;
        history.replaceState(null, '', `?${new URLSearchParams({ ...Object.fromEntries(params), level: pendingLevel })}`);
        // A new opponent starts a new game.
        obs = env.reset().obs;
        $('status').textContent = describeNpc();
      }
      pendingLevel = null;
      // Pong actions are Discrete (loadPolicy checked the game), so the action is one index.
      const npc = policy ? ((await policy.act(obs)).action as number) : 0;
      const r = env.step([npc, humanAction()]);
      const info = r.info as { ballX: number; ballY: number; ballVx: number; paddleY: number; score: [number, number] };
      trace.push({ ballX: info.ballX, ballY: info.ballY, ballVx: info.ballVx, paddleY: info.paddleY, npcAction: npc, level: demo.level });
      demo.score = info.score;
      obs = r.obs;
      if (r.terminated || r.truncated) {
        obs = env.reset().obs;
        policy?.reset();
      }
      frame = env.render();
      draw();
      $('status').textContent = `NPC ${info.score[0]} : ${info.score[1]} you`;
    } catch (err) {
      demo.error = (err as Error).message;
      $('error').textContent = demo.error;
      throw err;
    } finally {
      busy = false;
    }
  };
  setInterval(() => void tick(), 1000 / fps);
}

/** Fills the level picker (hidden without a ladder): one option per level, aliases in the label. */
function showPicker(ladder: Ladder, current: string, pick: (name: string) => void): void {
  const select = $('level') as HTMLSelectElement;
  for (const name of ladder.levels) {
    const aliases = Object.keys(ladder.aliases).filter((a) => ladder.aliases[a] === name);
    const o = document.createElement('option');
    o.value = name;
    o.textContent = aliases.length ? `${name} (${aliases.join(', ')})` : name;
    select.appendChild(o);
  }
  select.value = current;
  select.addEventListener('change', () => pick(select.value));
  $('picker').hidden = false;
}

main().catch((err: Error) => {
  demo.error = err.message;
  $('error').textContent = `Could not start: ${err.message}`;
  console.error(err);
});
