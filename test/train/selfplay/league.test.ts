/**
 * `playLeague`: every pair plays half its games with the first player in its seat and half with the
 * second in its seat (a side's advantage is shared out), returns from the first player's side;
 * `pairRecord` reads a pair from either player's side.
 */
import { describe, expect, it } from 'vitest';
import '../../../games/index.js';
import type { ActOptions, ActResult } from '../../../src/agents/agent.js';
import type { ObsArray } from '../../../src/envs/env.js';
import { pairRecord, playLeague } from '../../../src/train/selfplay/league.js';

/** An actor that always stands still and records the batch sizes it acted on. */
function still(): { act(obs: ObsArray, o: ActOptions): Promise<ActResult>; sizes: number[] } {
  const sizes: number[] = [];
  return { sizes, act: async (_obs, o) => (sizes.push(o.numEnvs), { actions: new Int32Array(o.numEnvs), info: {} }) };
}

describe('playLeague', () => {
  it('swaps the seats for the second half of each pair', async () => {
    // Tag: the player's seat is one chaser (one row per game); the opponent plays the other chaser and the evader (two rows).
    const [a, b] = [still(), still()];
    const players = [a, b].map((actor) => ({ actor, game: 'tag', envOptions: { maxSteps: 3 }, seat: 'chaser_0' }));
    const pairs = await playLeague(players, { episodes: 5, seed: 1 });
    expect(pairs).toHaveLength(1);
    expect(pairs[0]!.returns).toHaveLength(5);
    // Games 0-2: a in chaser_0 (3 games side by side, 3 steps); games 3-4: b in chaser_0, a in the other seats.
    expect(a.sizes).toEqual([3, 3, 3, 4, 4, 4]);
    expect(b.sizes).toEqual([6, 6, 6, 2, 2, 2]);
    // Nobody moves: the evader survives every game; from a's side that is a loss as a chaser and a win as the evader's team.
    expect(pairs[0]!.returns.map(Math.sign)).toEqual([-1, -1, -1, 1, 1]);
  });

  it('pairRecord counts wins, draws from either side', () => {
    const pair = { a: 2, b: 5, returns: [1, -2, 0, 3, -1, -1] };
    expect(pairRecord(pair, 2)).toEqual({ games: 6, wins: 2, draws: 1 });
    expect(pairRecord(pair, 5)).toEqual({ games: 6, wins: 3, draws: 1 });
  });
});
