/**
 * Multi-agent episodes (format version 3): recorded through RecordMultiAgentEpisode on tag and on
 * two-agent pong, read back agent by agent, re-simulated by verifyEpisode; a flipped action is
 * caught at its step; malformed files (an agent missing or extra, a wrong action count per step,
 * agents acting after they were done, truncations) end in one EpisodeFormatError.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../games/index.js';
import { makeMultiAgent } from '../../../src/envs/multi/registry.js';
import { SeededRng } from '../../../src/envs/rng.js';
import type { RgbFrame } from '../../../src/envs/env.js';
import { EpisodeFormatError, InvalidConfigError } from '../../../src/errors.js';
import { RecordMultiAgentEpisode, encodeEpisode, readEpisode, verifyEpisode, type MultiAgentRecordedStep, type RecordedEpisode } from '../../../src/replay/episodes/index.js';
import { ACTED_FLAG, MULTI_AGENT_EPISODE_VERSION, crc32 } from '../../../src/replay/episodes/format.js';
import { deflate } from './hostile-episodes.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcep-ma-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Played {
  path: string;
  actions: Array<Record<string, number>>;
  rewards: Array<Record<string, number>>;
  frames: RgbFrame[];
}

/** Plays one episode of `game` with uniformly random actions through the recorder; `annotate` gives one agent Q-values. */
function play(game: string, seed: number, o: { options?: Record<string, unknown>; annotate?: string; learner?: string | null; keyframeInterval?: number } = {}): Played {
  const env = makeMultiAgent<Uint8Array, number>(game, o.options ?? {});
  const controllers = Object.fromEntries(env.possibleAgents.map((a, i) => [a, i === 0 ? 'runs/demo:1000' : 'random']));
  const rec = new RecordMultiAgentEpisode(env, { dir: tmp, name: () => `${game}-${seed}`, controllers, learner: o.learner === undefined ? env.possibleAgents[0]! : o.learner, keyframeInterval: o.keyframeInterval });
  const rng = new SeededRng(seed);
  const out: Played = { path: '', actions: [], rewards: [], frames: [] };
  rec.reset({ seed });
  out.frames.push(env.render!());
  for (let t = 0; rec.agents.length > 0; t++) {
    const actions = Object.fromEntries(rec.agents.map((a) => [a, rng.int(0, env.spec.actionNames[a]!.length)]));
    if (o.annotate) rec.annotateNext(o.annotate, { q: [0, 1, 2, 3, 4].slice(0, env.spec.actionNames[o.annotate]!.length).map((x) => x + t / 10), value: t });
    const r = rec.step(actions);
    out.actions.push(actions);
    out.rewards.push(r.rewards);
    out.frames.push(env.render!());
  }
  rec.close();
  out.path = rec.files[0]!;
  return out;
}

const read = (path: string): RecordedEpisode => readEpisode(new Uint8Array(readFileSync(path)), { source: 'test.npcep' });

/** The steps of an episode as the encoder takes them, `edit` applied to each step's action dict. */
function stepsOf(ep: RecordedEpisode, edit: (t: number, actions: Record<string, number>) => void = () => {}): MultiAgentRecordedStep[] {
  return Array.from({ length: ep.stepCount }, (_, t) => {
    const actions = ep.agentActions(t);
    edit(t, actions);
    const dict = <T>(f: (a: NonNullable<RecordedEpisode['agents']>[number]) => T): Record<string, T> => Object.fromEntries(ep.agents!.filter((a) => a.acted[t]).map((a) => [a.name, f(a)]));
    return { actions, rewards: dict((a) => a.rewards[t]!), terminated: dict((a) => a.terminated[t] === 1), truncated: dict((a) => a.truncated[t] === 1), frame: ep.frame(t + 1) };
  });
}

describe('multi-agent episodes (format version 3)', () => {
  it('tag: every agent\'s actions, rewards and annotations round-trip; verify re-simulates it', () => {
    const p = play('tag', 3, { annotate: 'evader', learner: 'evader' });
    const ep = read(p.path);
    expect(ep.header.version).toBe(MULTI_AGENT_EPISODE_VERSION);
    expect(ep.header.game.id).toBe('tag');
    expect(ep.learner).toBe('evader');
    expect(ep.agents!.map((a) => [a.name, a.controller])).toEqual([
      ['chaser_0', 'runs/demo:1000'],
      ['chaser_1', 'random'],
      ['evader', 'random'],
    ]);
    expect(ep.stepCount).toBe(p.actions.length);
    for (let t = 0; t < ep.stepCount; t++) {
      expect(ep.agentActions(t)).toEqual(p.actions[t]);
      for (const a of ep.agents!) expect(a.rewards[t]).toBe(p.rewards[t]![a.name]);
    }
    // The single-agent fields are the learner's (the evader's).
    expect(Array.from(ep.actions)).toEqual(p.actions.map((a) => a.evader));
    expect(ep.header.actionNames).toEqual(['stay', 'up', 'right', 'down', 'left']);
    const ann = ep.agentAnnotation(2, 4)!;
    expect(ann.value).toBeCloseTo(4, 2);
    expect(ann.q![3]).toBeCloseTo(3.4, 2);
    expect(ep.agentAnnotation(0, 4)).toBeUndefined();
    expect(ep.annotation(4)!.value).toBeCloseTo(4, 2);
    for (const k of [0, 1, ep.frameCount - 1]) expect(Buffer.from(ep.frame(k).data).equals(Buffer.from(p.frames[k]!.data))).toBe(true);
    const v = verifyEpisode(ep);
    expect(v).toEqual({ ok: true, steps: ep.stepCount, frames: ep.frameCount, mismatch: null });
  });

  it('pong with both paddles as agents: recorded and re-simulated exactly', () => {
    const p = play('pong', 5, { options: { maxSteps: 150 } });
    const ep = read(p.path);
    expect(ep.agents!.map((a) => a.name)).toEqual(['right', 'left']);
    expect(ep.header.game.options.maxSteps).toBe(150);
    expect(ep.stepCount).toBeLessThanOrEqual(150);
    expect(verifyEpisode(ep).ok).toBe(true);
    // Zero-sum per point: the two returns are opposite.
    const [right, left] = ep.agents!;
    expect(right!.returns[ep.frameCount - 1]).toBe(-left!.returns[ep.frameCount - 1]!);
  });

  it('a flipped action of one agent fails verify at that step', () => {
    const p = play('tag', 11);
    const ep = read(p.path);
    // The first step where another action of chaser_1 moves it elsewhere (a wall can block a move).
    const env = makeMultiAgent('tag', ep.header.game.options);
    env.reset({ seed: 11 });
    let flip: { t: number; action: number } | null = null;
    for (let t = 0; t < ep.stepCount - 1 && !flip; t++) {
      const state = env.getState!();
      const recorded = ep.agentActions(t);
      for (let a = 0; a < 5 && !flip; a++) {
        if (a === recorded.chaser_1) continue;
        env.setState!(state);
        env.step({ ...recorded, chaser_1: a });
        const f = env.render!();
        if (!Buffer.from(f.data).equals(Buffer.from(ep.frame(t + 1).data))) flip = { t, action: a };
      }
      env.setState!(state);
      env.step(recorded);
    }
    expect(flip).not.toBeNull();
    const bytes = encodeEpisode(ep.header, ep.frame(0), stepsOf(ep, (t, actions) => t === flip!.t && (actions.chaser_1 = flip!.action)));
    const v = verifyEpisode(readEpisode(bytes));
    expect(v.ok).toBe(false);
    expect(v.mismatch).toMatchObject({ step: flip!.t, frame: flip!.t + 1, field: 'frame' });
  });

  it('the encoder refuses a step without every live agent, with an extra agent, or an action out of range', () => {
    const ep = read(play('tag', 2).path);
    const steps = stepsOf(ep);
    const encode = (edit: (s: MultiAgentRecordedStep) => void): unknown => {
      const s0 = { ...steps[0]!, actions: { ...steps[0]!.actions } };
      edit(s0);
      return () => encodeEpisode(ep.header, ep.frame(0), [s0]);
    };
    expect(encode((s) => delete s.actions.evader)).toThrowError(InvalidConfigError);
    expect(encode((s) => delete s.actions.evader)).toThrowError(/\[EpisodeEncoder\.stepAgents\] expected actions for the live agents chaser_0, chaser_1, evader, received actions for "chaser_0", "chaser_1"; fix: /);
    expect(encode((s) => (s.actions.ghost = 1))).toThrowError(/expected actions for the live agents chaser_0, chaser_1, evader, received actions for .*"ghost"/);
    expect(encode((s) => (s.actions.chaser_0 = 5))).toThrowError(/expected an action of chaser_0 in \[0, 5\), received 5/);
    expect(() => encodeEpisode({ ...ep.header, agents: [...ep.header.agents!, { ...ep.header.agents![0]!, name: 'chaser_0' }] }, ep.frame(0), [])).toThrowError(/expected agent 3 with a unique name/);
  });

  it('files with an agent missing or extra, a wrong action count per step, or agents acting after they were done: one EpisodeFormatError', () => {
    const good = new Uint8Array(readFileSync(play('tag', 4, { keyframeInterval: 8 }).path));
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    /** Rewrites the file: `header` edits the header, `block` the step block of chunk 0. */
    const rewrite = (o: { header?: (h: any) => void; block?: (b: any) => void }): Uint8Array => {
      const records = unpackr.unpackMultiple(good) as any[];
      if (o.header) o.header(records[0]);
      if (o.block) {
        const c = records[1];
        const b = unpackr.unpack(inflateRawSync(c.stepData));
        o.block(b);
        c.stepData = deflate(packr.pack(b));
        c.crc = crc32(c.frameData, c.stepData);
      }
      return Buffer.concat(records.map((r) => packr.pack(r)));
    };
    const expectOne = (bytes: Uint8Array, message: RegExp): void => {
      expect(() => readEpisode(bytes, { source: 'bad.npcep' })).toThrowError(EpisodeFormatError);
      expect(() => readEpisode(bytes, { source: 'bad.npcep' })).toThrowError(message);
      try {
        readEpisode(bytes, { source: 'bad.npcep' });
      } catch (e) {
        expect((e as Error).message.split('\n')).toHaveLength(1);
        expect((e as Error).message).toMatch(/^\[readEpisode bad\.npcep\] expected .*; fix: /);
      }
    };
    expect(readEpisode(rewrite({})).agents).toHaveLength(3);
    expectOne(rewrite({ header: (h) => h.agents.pop() }), /expected chunk 0 step data for 8 steps of 2 agents, received .*actions 24 bytes/);
    expectOne(rewrite({ header: (h) => h.agents.push({ ...h.agents[0], name: 'chaser_2' }) }), /expected chunk 0 step data for 8 steps of 4 agents/);
    expectOne(rewrite({ header: (h) => delete h.agents }), /expected a valid episode header, received agents \(1 to 64 agents\)/);
    expectOne(rewrite({ header: (h) => (h.learner = 'ghost') }), /learner: null or the name of an agent/);
    expectOne(rewrite({ block: (b) => (b.actions = b.actions.subarray(1)) }), /expected chunk 0 step data for 8 steps of 3 agents, received actionBytes 1, actions 23 bytes/);
    expectOne(rewrite({ block: (b) => (b.agents = b.agents.slice(1)) }), /received .*agents 2/);
    expectOne(rewrite({ block: (b) => (b.actions[4] = 7) }), /expected an action of agent chaser_1 in \[0, 5\), received 7 at step 1/);
    // chaser_1 sits out step 2 though it is live.
    expectOne(rewrite({ block: (b) => (b.flags[2 * 3 + 1] = 0) }), /expected agent chaser_1 to act at step 2, received flags 0/);
    // The evader is "done" at step 0, then acts again at step 1.
    expectOne(rewrite({ block: (b) => (b.flags[2] = ACTED_FLAG | 1) }), /expected agent evader to not act \(it was done\) at step 1/);
    const tagVersion1 = rewrite({ header: (h) => (h.version = 1) });
    expectOne(tagVersion1, /agents or learner in a version 1 header/);
    for (let i = 0; i < 30; i++) {
      const cut = good.subarray(0, Math.floor((good.length * i) / 30));
      expect(() => readEpisode(cut)).toThrowError(EpisodeFormatError);
    }
  });

  it('an episode reset without a seed replays from the state recorded before its reset', () => {
    const env = makeMultiAgent<Uint8Array, number>('tag', { maxSteps: 12 });
    const rec = new RecordMultiAgentEpisode(env, { dir: join(tmp, 'unseeded') });
    const rng = new SeededRng(9);
    for (const args of [{ seed: 9 }, {}]) {
      rec.reset(args);
      while (rec.agents.length > 0) rec.step(Object.fromEntries(rec.agents.map((a) => [a, rng.int(0, 5)])));
    }
    rec.close();
    expect(rec.files.map((f) => f.split('/').pop())).toEqual(['tag-s9-e000.npcep', 'tag-e001.npcep']);
    const second = read(rec.files[1]!);
    expect(second.header.seed).toBeNull();
    expect(second.header.stateBeforeReset).not.toBeNull();
    expect(verifyEpisode(second).ok).toBe(true);
    // The same actions from the first episode's seed are another game.
    const other = encodeEpisode({ ...second.header, stateBeforeReset: null, seed: 9 }, second.frame(0), stepsOf(second));
    expect(verifyEpisode(readEpisode(other)).mismatch?.frame).toBe(0);
  });

  it('the recorder refuses unknown controllers or learner, and a game without render(), before any file', () => {
    const dir = join(tmp, 'refused');
    const tag = (): ReturnType<typeof makeMultiAgent<Uint8Array, number>> => makeMultiAgent<Uint8Array, number>('tag');
    expect(() => new RecordMultiAgentEpisode(tag(), { dir, controllers: { ghost: 'random' } })).toThrowError(/\[RecordMultiAgentEpisode\(tag\)\] expected controllers and learner among the agents chaser_0, chaser_1, evader, .*received controllers for "ghost", which is not an agent; fix: /);
    expect(() => new RecordMultiAgentEpisode(tag(), { dir, learner: 'ghost' })).toThrowError(/received learner "ghost"/);
    const blind = Object.assign(Object.create(Object.getPrototypeOf(tag())), tag(), { render: undefined });
    expect(() => new RecordMultiAgentEpisode(blind, { dir })).toThrowError(/expected a game with render\(\)/);
    expect(existsSync(dir)).toBe(false);
  });

  it('the encoder refuses a multi-agent chunk whose step data would pass the reader\'s 32 MiB limit', () => {
    const names = Array.from({ length: 1024 }, (_, i) => `a${i}`);
    const agents = Array.from({ length: 64 }, (_, i) => ({ name: `p${i}`, actionNames: names, actionSpace: { type: 'Discrete' as const, n: 1024, start: 0 }, observationSpace: { type: 'Discrete' as const, n: 2, start: 0 }, controller: 'random' }));
    const frame = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
    const values = Float32Array.from(names, (_, i) => i / 1024);
    const row = Object.fromEntries(agents.map((a) => [a.name, 0]));
    const flags = Object.fromEntries(agents.map((a) => [a.name, false]));
    const annotations = Object.fromEntries(agents.map((a) => [a.name, { q: values, probs: values }]));
    // 130 steps x 64 agents x 1024 actions x (Q-values + probabilities) x 2 bytes: ~34 MB in one chunk of K = 256.
    const steps = Array.from({ length: 130 }, () => ({ actions: row, rewards: row, terminated: flags, truncated: flags, frame, annotations }));
    const start = { game: { id: 'x', options: {}, maxEpisodeSteps: null }, seed: 0, resetOptions: null, stateBeforeReset: null, stateAtReset: null, actionNames: names, actionSpace: agents[0]!.actionSpace, observationSpace: agents[0]!.observationSpace, agents, learner: null };
    expect(() => encodeEpisode(start, frame, steps, { keyframeInterval: 256 })).toThrowError(/\[EpisodeEncoder\] expected at most 33554432 bytes of step data per multi-agent chunk, received \d+ \(130 steps of 64 agents\); fix: record with keyframeInterval 'auto' or a smaller one/);
    // The same steps in chunks of 64 (the automatic interval's largest) are fine.
    expect(readEpisode(encodeEpisode(start, frame, steps.slice(0, 70), { keyframeInterval: 64 })).agents).toHaveLength(64);
  });

  it('verify names a game whose agents differ from the recording', () => {
    const ep = read(play('pong', 1, { options: { maxSteps: 20 } }).path);
    const bytes = encodeEpisode({ ...ep.header, game: { ...ep.header.game, id: 'tag', options: {} }, agents: ep.header.agents!.map((a) => ({ ...a, actionNames: ['stay', 'up', 'right', 'down', 'left'], actionSpace: { type: 'Discrete', n: 5, start: 0 } })) }, ep.frame(0), []);
    expect(() => verifyEpisode(readEpisode(bytes, { source: 'x.npcep' }))).toThrowError(/\[verifyEpisode x\.npcep\] expected the agents of tag \(chaser_0, chaser_1, evader\), received an episode of agents right, left/);
  });
});
