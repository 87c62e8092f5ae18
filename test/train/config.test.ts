import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../../games/index.js';
import { InvalidConfigError } from '../../src/errors.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { main } from '../../src/cli/main.js';
import { train } from '../../src/train/runner.js';

describe('resolveRunConfig', () => {
  it('merges preset < config file < flags', () => {
    const c = resolveRunConfig({ game: 'catch', file: { steps: 111, batchSize: 16, seed: 4 }, flags: { steps: 222 } });
    expect(c.agent).toBe('dqn');
    expect(c.preset).toBe('classic');
    expect(c.run.steps).toBe(222);
    expect(c.run.seed).toBe(4);
    expect(c.agentConfig.batchSize).toBe(16);
    expect(c.agentConfig.gamma).toBe(0.99);
    const m = resolveRunConfig({ game: 'catch', preset: 'minatar' });
    expect(m.agentConfig.optimizer).toEqual({ kind: 'rmsprop-centered', learningRate: 2.5e-4, decay: 0.95, momentum: 0, epsilon: 0.01 });
    expect(m.agentConfig.targetUpdateEvery).toBe(1000);
  });

  it('names every unknown or bad key', () => {
    expect(() => resolveRunConfig({ game: 'catch', file: { lerningRate: 1, steps: -3 } })).toThrow(InvalidConfigError);
    expect(() => resolveRunConfig({ game: 'catch', file: { lerningRate: 1, steps: -3 } })).toThrow(/steps = -3.*unknown key "lerningRate"/);
    expect(() => resolveRunConfig({ game: 'catch', file: { stopAtEval: 'high' } })).toThrow(/stopAtEval = "high"/);
    expect(() => resolveRunConfig({ game: 'catch', preset: 'nope' })).toThrow(/preset\] expected one of minatar, rainbow-lite, classic/);
  });
});

describe('CLI bad input: one error line, non-zero exit, nothing overwritten', () => {
  let dir: string;
  let err: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'npcforge-cli-'));
    err = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (args: string[]): Promise<number> => main(args);
  const oneLine = (): string => {
    const text = err.join('');
    expect(text.trim().split('\n')).toHaveLength(1);
    return text;
  };

  it('unknown game', async () => {
    expect(await run(['train', 'nope', '--out', dir])).toBe(2);
    expect(oneLine()).toMatch(/^npcforge: \[make\] expected a registered env id/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('unknown agent', async () => {
    expect(await run(['train', 'catch', '--agent', 'zzz', '--out', dir])).toBe(2);
    expect(oneLine()).toMatch(/\[agent\] expected one of dqn/);
  });

  it('malformed config file and unknown config key', async () => {
    writeFileSync(join(dir, 'bad.json'), '{"steps": 10,');
    expect(await run(['train', 'catch', '--config', join(dir, 'bad.json'), '--out', dir])).toBe(2);
    expect(oneLine()).toMatch(/\[--config\] expected valid JSON/);
    err.length = 0;
    writeFileSync(join(dir, 'unknown.json'), '{"batchSzie": 10}');
    expect(await run(['train', 'catch', '--config', join(dir, 'unknown.json'), '--out', dir])).toBe(2);
    expect(oneLine()).toMatch(/unknown key "batchSzie"/);
  });

  it('--resume of a folder that is not a run', async () => {
    mkdirSync(join(dir, 'notarun'));
    expect(await run(['train', '--resume', join(dir, 'notarun')])).toBe(2);
    expect(oneLine()).toMatch(/\[run folder\] expected a folder with config.json/);
    expect(readdirSync(join(dir, 'notarun'))).toEqual([]);
  });

  it('corrupt checkpoint: resume and eval refuse, files untouched', async () => {
    const res = await train({ config: resolveRunConfig({ game: 'catch', flags: { steps: 60, evalEpisodes: 2, logEvery: 20 } as never, file: { learningStarts: 40, batchSize: 8 } }), runDir: join(dir, 'run'), progress: null });
    const ck = res.checkpoint!;
    err.length = 0; // the in-process train() above may print the backend choice
    writeFileSync(join(ck, 'online.bin'), new Uint8Array(10));
    const metricsBefore = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8');
    expect(await run(['train', '--resume', join(dir, 'run')])).toBe(2);
    expect(oneLine()).toMatch(/\[dqn.load( online)?\] expected/);
    err.length = 0;
    expect(await run(['eval', join(dir, 'run'), '--episodes', '2', '--checkpoint', '60'])).toBe(2);
    expect(oneLine()).toMatch(/\[dqn.load( online)?\] expected/);
    expect(readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')).toBe(metricsBefore);
    writeFileSync(join(ck, 'checkpoint.json'), '{"format": "npcforge-checkpoint", "vers');
    err.length = 0;
    expect(await run(['train', '--resume', join(dir, 'run')])).toBe(2);
    expect(oneLine()).toMatch(/\[checkpoint\] expected a readable checkpoint.json/);
    expect(existsSync(join(ck, 'checkpoint.json'))).toBe(true);
  });
});
