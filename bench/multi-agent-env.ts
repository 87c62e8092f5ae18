/**
 * Multi-agent env throughput: joint steps per second of every registered multi-agent game with
 * uniform random actions for every live agent (games registered later are covered automatically;
 * games with an `obsType` option also run with `obsType: 'state'`), and steps per second of one
 * seat through `asSingleAgent` with random other seats. Median of several repeats.
 */
import type { ObsArray } from '../src/envs/env.js';
import { SeededRng } from '../src/envs/rng.js';
import type { AgentDict, MultiAgentEnv } from '../src/envs/multi/multi-agent-env.js';
import { listMultiAgentEnvs, makeMultiAgent } from '../src/envs/multi/registry.js';
import { asSingleAgent, randomPolicy } from '../src/envs/multi/single-agent.js';
import { formatRate, measureRate, median, numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

/** Joint steps with random actions for the live agents; resets when every agent is done. */
function jointBatch(env: MultiAgentEnv<ObsArray, number>, rng: SeededRng, steps: number): () => number {
  env.reset({ seed: 0 });
  return () => {
    for (let t = 0; t < steps; t++) {
      const actions: AgentDict<number> = {};
      for (const a of env.agents) actions[a] = env.actionSpace(a).sample(rng);
      env.step(actions);
      if (env.agents.length === 0) env.reset();
    }
    return steps;
  };
}

interface Row {
  game: string;
  options: Record<string, unknown>;
  mode: string;
  stepsPerSec: number;
  runs: number[];
}

async function run(args: BenchArgs): Promise<unknown> {
  const seconds = numberFlag(args, 'seconds', 0.5);
  const repeats = Math.round(numberFlag(args, 'repeats', 5));
  const rows: Row[] = [];
  for (const entry of listMultiAgentEnvs()) {
    const probe = makeMultiAgent(entry.id);
    const variants: Array<Record<string, unknown>> = [{}];
    if (probe.spec.options && 'obsType' in probe.spec.options) variants.push({ obsType: 'state' });
    const seat = probe.possibleAgents[0]!;
    for (const options of variants) {
      const label = `${entry.id}${options.obsType ? `/${String(options.obsType)}` : ''}`;
      const joint = makeMultiAgent<ObsArray, number>(entry.id, options);
      const jointRuns = await measureRate(jointBatch(joint, new SeededRng(1), 1000), { seconds, repeats });
      rows.push({ game: entry.id, options, mode: 'joint', stepsPerSec: median(jointRuns), runs: jointRuns });
      const multi = makeMultiAgent<ObsArray, number>(entry.id, options);
      const others = Object.fromEntries(multi.possibleAgents.filter((a) => a !== seat).map((a) => [a, randomPolicy<ObsArray, number>(multi.actionSpace(a))]));
      const single = asSingleAgent(multi, { agent: seat, others });
      const rng = new SeededRng(2);
      single.reset({ seed: 0 });
      const seatRuns = await measureRate(() => {
        for (let t = 0; t < 1000; t++) {
          const r = single.step(single.actionSpace.sample(rng));
          if (r.terminated || r.truncated) single.reset();
        }
        return 1000;
      }, { seconds, repeats });
      rows.push({ game: entry.id, options, mode: `asSingleAgent(${seat})`, stepsPerSec: median(seatRuns), runs: seatRuns });
      process.stderr.write(`  ${label}: joint ${formatRate(median(jointRuns))}/s, ${seat} seat ${formatRate(median(seatRuns))}/s\n`);
    }
  }
  process.stdout.write(`\nmulti-agent env steps/s, random actions for every seat, median of ${repeats} x ${seconds} s\n`);
  printTable(
    ['game', 'mode', 'steps/s'],
    rows.map((r) => [`${r.game}${r.options.obsType ? `/${String(r.options.obsType)}` : ''}`, r.mode, formatRate(r.stepsPerSec)]),
  );
  const result = { seconds, repeats, rows };
  writeJson(args, 'multi-agent-env', result);
  return result;
}

export const bench: Bench = {
  description: 'steps/s per registered multi-agent game: joint steps, and one seat through asSingleAgent with random others',
  run,
};
