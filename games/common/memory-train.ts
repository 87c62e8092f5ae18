/** Training settings shared by the memory tasks (memory-maze, catch/flicker): DQN, its DRQN twin, PPO's runner settings. */

/** DQN on the memory tasks: the feed-forward twin (32 replayed transitions per env step). */
export const MEMORY_DQN = { network: { kind: 'mlp', hidden: [64] }, learningStarts: 1000, epsilonDecaySteps: 15_000, epsilonEnd: 0.1, targetUpdateEvery: 100, bufferSize: 20_000, batchSize: 64, trainEvery: 2 };
/** ... and its DRQN version: 32 sequences of 8 trained steps every 8 env steps (the same replay ratio). */
export const MEMORY_DRQN = { ...MEMORY_DQN, lstmUnits: 32, seqLength: 8, burnIn: 2, batchSize: 32, trainEvery: 8 };
/** Runner settings of the DQN/DRQN runs (8 envs). */
export const MEMORY_RUN = { evalEvery: 10_000, evalEpisodes: 100, logEvery: 2500, checkpointEvery: 10_000 };
