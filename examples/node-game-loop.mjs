// A Node game loop driven by an exported policy: the NPC holds pong's right paddle, a scripted
// player the left one. Run: node examples/node-game-loop.mjs [bundle] (after `npm run build`).
import { PongEnv } from 'npcforge/games';
import { loadPolicy } from 'npcforge/runtime';

const bundle = process.argv[2] ?? new URL('./pong/npc', import.meta.url).pathname;
const npc = await loadPolicy(bundle, { game: 'pong' });
const { trackReward, mode, ...options } = npc.file.game.options;
const game = new PongEnv({ ...options, mode: 'two-player' });

let { obs } = game.reset({ seed: 1 });
let gap = 0;
const steps = 1000;
for (let t = 0; t < steps; t++) {
  const { action, actionName } = await npc.act(obs); // preprocessing + network + argmax
  const human = t % 40 < 20 ? 1 : 2; // the "person": sweeps up and down
  const r = game.step([action, human]);
  obs = r.obs;
  gap += Math.abs(r.info.paddleY - r.info.ballY);
  if (t % 200 === 0) console.log(`t=${t} npc=${actionName} score=${r.info.score.join(':')}`);
  if (r.terminated || r.truncated) {
    obs = game.reset().obs;
    npc.reset(); // new episode: clear frame stack / LSTM state
  }
}
console.log(`mean |npc paddle - ball| = ${(gap / steps).toFixed(2)} px`);
npc.dispose();
