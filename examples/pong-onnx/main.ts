/**
 * Pong against an NPC exported with `npcforge export --format onnx|all`, run by onnxruntime-web
 * instead of npcforge/runtime: the page fetches `./npc/policy.onnx` (or `?npc=<folder URL>`), feeds
 * the game's observation as the graph input `obs` (float32 [1, 6]) and plays the `action` output.
 * No tfjs on this page. The game options come from `policy.json` next to the file when it is there.
 * onnxruntime-web loads its WebAssembly from `./ort/` (copied there by scripts/bundle-pong-onnx.mjs),
 * never from a CDN. `window.pongDemo` exposes the trace for tests, as the tfjs page does.
 */
import * as ort from 'onnxruntime-web/wasm';
import { PongEnv, type PongOptions } from '../../games/pong/pong.js';

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
const demo = { ready: false, trace, config: null as PongOptions | null, error: null as string | null, outputs: [] as string[] };
(globalThis as unknown as { pongDemo: typeof demo }).pongDemo = demo;

function $(id: string): HTMLElement {
  return document.getElementById(id)!;
}

function humanAction(): number {
  const up = keys.has('ArrowUp') || keys.has('w');
  const down = keys.has('ArrowDown') || keys.has('s');
  return up === down ? 0 : up ? 1 : 2;
}

/** The game options the policy was trained with (policy.json), minus training-only shaping; {} without the file. */
async function trainedOptions(): Promise<PongOptions> {
  const res = await fetch(new URL('policy.json', new URL(npcSource, location.href)));
  if (!res.ok) return { obsType: 'state' };
  const { trackReward: _shaping, mode: _mode, ...rest } = ((await res.json()) as { game: { options: PongOptions } }).game.options;
  return rest;
}

async function main(): Promise<void> {
  ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
  // One thread: a page without cross-origin isolation has no SharedArrayBuffer.
  ort.env.wasm.numThreads = 1;
  const session = npcSource === 'noop' ? null : await ort.InferenceSession.create(new URL('policy.onnx', new URL(npcSource, location.href)).href, { executionProviders: ['wasm'] });
  demo.outputs = session ? [...session.outputNames] : [];
  const env = new PongEnv({ ...(session ? await trainedOptions() : { obsType: 'state' }), mode: 'two-player' });
  demo.config = env.config;
  let obs: ArrayLike<number> = env.reset({ seed: Number(params.get('seed') ?? 0) }).obs;
  const canvas = $('stage') as HTMLCanvasElement;
  const ctx = canvas.getContext('2d')!;
  let frame = env.render();
  canvas.width = frame.width;
  canvas.height = frame.height;
  const image = ctx.createImageData(frame.width, frame.height);
  const draw = (): void => {
    const d = frame.data;
    for (let i = 0, j = 0; i < d.length; i += 3, j += 4) {
      image.data[j] = d[i]!;
      image.data[j + 1] = d[i + 1]!;
      image.data[j + 2] = d[i + 2]!;
      image.data[j + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  };
  draw();
  addEventListener('keydown', (e) => keys.add(e.key));
  addEventListener('keyup', (e) => keys.delete(e.key));
  demo.ready = true;
  $('status').textContent = session ? `NPC: policy.onnx (outputs ${demo.outputs.join(', ')})` : 'NPC: no-op baseline';
  const input = new Float32Array(obs.length);

  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      let npc = 0;
      if (session) {
        input.set(obs);
        const out = await session.run({ obs: new ort.Tensor('float32', input, [1, input.length]) });
        // `action` is the greedy action, int64 [1] (argmax of q).
        npc = Number((out.action!.data as BigInt64Array)[0]);
      }
      const r = env.step([npc, humanAction()]);
      const info = r.info as { ballX: number; ballY: number; ballVx: number; paddleY: number; score: [number, number] };
      trace.push({ ballX: info.ballX, ballY: info.ballY, ballVx: info.ballVx, paddleY: info.paddleY, npcAction: npc });
      obs = r.terminated || r.truncated ? env.reset().obs : r.obs;
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
