/**
 * Episode file benchmark: for every registered game, records episodes (seeded random policy,
 * synthetic Q-value annotations on every step) until `--steps` steps, then reports the file size per
 * 1,000 steps, encode time per step, and the time to seek to random frames in Node (decode only).
 * Multi-agent games (rows `<id> (n agents)`): every agent moves at random and carries Q-values.
 * Run: `node dist/bench/episodes.bench.js [--steps 1000] [--multi-agent] [--json]` (`--multi-agent`: those games only).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../games/index.js';
import { listEnvs, make } from '../src/envs/registry.js';
import { SeededRng } from '../src/envs/rng.js';
import { Discrete } from '../src/envs/spaces.js';
import { RecordEpisode, RecordMultiAgentEpisode, readEpisode, type EpisodeAction } from '../src/replay/episodes/index.js';
import { listMultiAgentEnvs, makeMultiAgent } from '../src/envs/multi/registry.js';

interface Row {
  game: string;
  frame: string;
  steps: number;
  episodes: number;
  bytesPer1000Steps: number;
  largestFileBytes: number;
  encodeUsPerStep: number;
  seekMsMedian: number;
  seekMsMax: number;
}

function benchGame(id: string, steps: number, dir: string): Row {
  const env = make<unknown, EpisodeAction>(id);
  const discrete = env.actionSpace instanceof Discrete;
  const nA = env.spec.actionNames.length;
  const rng = new SeededRng(1);
  const rec = new RecordEpisode(env, { dir });
  let total = 0;
  let encodeMs = 0;
  for (let e = 0; total < steps; e++) {
    rec.reset({ seed: e });
    for (;;) {
      const t = total;
      const q = Array.from({ length: nA }, (_, a) => Math.sin(t / 17 + a) + 0.05 * rng.normal());
      rec.annotateNext({ q });
      const t0 = performance.now();
      // MultiDiscrete and Box games: a row sampled from the action space.
      const r = rec.step(discrete ? rng.int(0, nA) : (env.actionSpace.sample(rng) as EpisodeAction));
      encodeMs += performance.now() - t0;
      total++;
      if (r.terminated || r.truncated || total >= steps) break;
    }
  }
  rec.close();
  env.close();
  return measure(id, rec.files, total, encodeMs, rng);
}

/** A multi-agent game: every live agent moves at random and carries synthetic Q-values. */
function benchMultiAgentGame(id: string, steps: number, dir: string): Row {
  const env = makeMultiAgent<unknown, number>(id);
  const rng = new SeededRng(1);
  const rec = new RecordMultiAgentEpisode(env, { dir, learner: env.possibleAgents[0]! });
  let total = 0;
  let encodeMs = 0;
  for (let e = 0; total < steps; e++) {
    rec.reset({ seed: e });
    while (rec.agents.length > 0 && total < steps) {
      const t = total;
      const actions: Record<string, number> = {};
      for (const a of rec.agents) {
        const nA = env.spec.actionNames[a]!.length;
        rec.annotateNext(a, { q: Array.from({ length: nA }, (_, i) => Math.sin(t / 17 + i) + 0.05 * rng.normal()) });
        actions[a] = rng.int(0, nA);
      }
      const t0 = performance.now();
      rec.step(actions);
      encodeMs += performance.now() - t0;
      total++;
    }
  }
  rec.close();
  return measure(`${id} (${env.possibleAgents.length} agents)`, rec.files, total, encodeMs, rng);
}

/** Sizes of the files and the seek times in the largest. */
function measure(game: string, files: string[], total: number, encodeMs: number, rng: SeededRng): Row {
  const sizes = files.map((f) => readFileSync(f).length);
  const biggest = files[sizes.indexOf(Math.max(...sizes))]!;
  const ep = readEpisode(new Uint8Array(readFileSync(biggest)));
  const times: number[] = [];
  const out = new Uint8Array(ep.width * ep.height * 4);
  // Warm-up seeks (JIT, first inflate) are not counted.
  for (let i = 0; i < 20; i++) ep.frameRgba(rng.int(0, ep.frameCount), out);
  for (let i = 0; i < 200; i++) {
    const k = rng.int(0, ep.frameCount);
    const t0 = performance.now();
    ep.frameRgba(k, out);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    game,
    frame: `${ep.width}x${ep.height}`,
    steps: total,
    episodes: files.length,
    bytesPer1000Steps: Math.round((sizes.reduce((a, b) => a + b, 0) / total) * 1000),
    largestFileBytes: Math.max(...sizes),
    // Includes the env's own step and render, which the wrapper calls.
    encodeUsPerStep: Math.round((encodeMs / total) * 1000),
    seekMsMedian: Number(times[times.length >> 1]!.toFixed(3)),
    seekMsMax: Number(times[times.length - 1]!.toFixed(3)),
  };
}

const args = process.argv.slice(2);
const stepsArg = args.indexOf('--steps');
const steps = stepsArg >= 0 ? Number(args[stepsArg + 1]) : 1000;
const dir = mkdtempSync(join(tmpdir(), 'npcep-bench-'));
try {
  const only = args.includes('--multi-agent');
  const rows = [
    ...(only ? [] : listEnvs().map((e) => benchGame(e.id, steps, join(dir, e.id.replace(/\//g, '_'))))),
    ...listMultiAgentEnvs().map((e) => benchMultiAgentGame(e.id, steps, join(dir, `multi-${e.id.replace(/\//g, '_')}`))),
  ];
  if (args.includes('--json')) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else {
    const cols = Object.keys(rows[0]!) as Array<keyof Row>;
    const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
    process.stdout.write(cols.map((c, i) => c.padEnd(width[i]!)).join('  ') + '\n');
    for (const r of rows) process.stdout.write(cols.map((c, i) => String(r[c]).padEnd(width[i]!)).join('  ') + '\n');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
