/**
 * Pong against an exported NPC policy, in the browser: the game is games/pong (two-player mode),
 * the NPC is npcforge/runtime's `loadPolicy` on the bundle served at `./npc/` (or `?npc=<url>`),
 * drawing is Pixi. The person holds the left paddle (player 1), the NPC the right one (player 0,
 * whose view the game's observation is). `?npc=noop` plays a do-nothing NPC (a baseline);
 * `?fps=` sets the game speed. `window.pongDemo` exposes the trace for tests.
 */
import * as tf from '@tensorflow/tfjs';
import { Application, BufferImageSource, Sprite, Texture } from 'pixi.js';
import { PongEnv, type PongOptions } from '../../games/pong/pong.js';
import { loadPolicy, type Policy } from '../../src/runtime/index.js';

interface TraceStep {
  ballX: number;
  ballY: number;
  ballVx: number;
  paddleY: number;
  npcAction: number;
}

const params = new URLSearchParams(location.search);
const npcSource = params.get('npc') ?? './npc/';
const fps = Math.min(240, Math.max(1, Number(params.get('fps') ?? 30)));
const trace: TraceStep[] = [];
const keys = new Set<string>();
const demo = { ready: false, trace, score: [0, 0], config: null as PongOptions | null, error: null as string | null };
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
  if (npcSource !== 'noop') {
    policy = await loadPolicy(npcSource, { game: 'pong' });
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
  $('status').textContent = policy ? `NPC: ${policy.file.agent} policy trained ${policy.file.training.checkpoint ?? '?'} steps (eval return ${policy.file.evalReturn ?? '-'})` : 'NPC: no-op baseline';

  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      // Pong actions are Discrete (loadPolicy checked the game), so the action is one index.
      const npc = policy ? ((await policy.act(obs)).action as number) : 0;
      const r = env.step([npc, humanAction()]);
      const info = r.info as { ballX: number; ballY: number; ballVx: number; paddleY: number; score: [number, number] };
      trace.push({ ballX: info.ballX, ballY: info.ballY, ballVx: info.ballVx, paddleY: info.paddleY, npcAction: npc });
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

main().catch((err: Error) => {
  demo.error = err.message;
  $('error').textContent = `Could not start: ${err.message}`;
  console.error(err);
});
