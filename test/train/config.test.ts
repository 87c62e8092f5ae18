import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../../games/index.js';
import { InvalidConfigError } from '../../src/errors.js';
import { CONFIG_FILE_MAX_BYTES, readConfigFile, resolveRunConfig } from '../../src/train/run-config.js';
import { execFileSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { registerAgent } from '../../src/agents/registry.js';
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

describe('readConfigFile: the file is untrusted', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'npcforge-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const refuses = (path: string, pattern: RegExp): void => {
    let err: unknown;
    try {
      readConfigFile(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(pattern);
    expect(msg).toMatch(/^\[--config\] expected .*; fix: /);
    expect(msg.split('\n')).toHaveLength(1);
  };

  it('refuses /dev/zero, a FIFO and a folder before reading (no hang, no memory blow-up)', () => {
    refuses('/dev/zero', /expected a regular JSON file, received "\/dev\/zero" \(not a regular file\)/);
    const fifo = join(dir, 'config.json');
    execFileSync('mkfifo', [fifo]);
    refuses(fifo, /not a regular file/);
    refuses(dir, /\(a folder\)/);
    symlinkSync('/dev/zero', join(dir, 'zero.json'));
    refuses(join(dir, 'zero.json'), /not a regular file/);
    refuses(join(dir, 'missing.json'), /\(ENOENT\)/);
  });

  it('refuses a file over the size limit, naming the size and the limit', () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, '{"steps": 1' + ' '.repeat(CONFIG_FILE_MAX_BYTES) + '}');
    refuses(big, new RegExp(`at most ${CONFIG_FILE_MAX_BYTES} bytes, received ".*" \\(${CONFIG_FILE_MAX_BYTES + 12} bytes\\)`));
  });

  it('skips a UTF-8 BOM', () => {
    const f = join(dir, 'bom.json');
    writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"steps": 7}')]));
    expect(readConfigFile(f)).toEqual({ steps: 7 });
  });

  it('reports JSON errors by position without quoting the file, and refuses deep nesting', () => {
    const f = join(dir, 'secret.json');
    writeFileSync(f, '{"steps": ');
    refuses(f, /ends before the JSON is complete/);
    writeFileSync(f, '{"steps": 1,\n s3cr3t}');
    refuses(f, /syntax error at line 2 column 2/);
    expect(() => readConfigFile(f)).not.toThrow(/s3cr3t/);
    writeFileSync(f, 's3cr3t');
    expect(() => readConfigFile(f)).not.toThrow(/s3cr3t/);
    writeFileSync(f, '{"network": ' + '['.repeat(100_000) + ']'.repeat(100_000) + '}');
    refuses(f, /nested at most 16 levels deep/);
    writeFileSync(f, '[1]');
    refuses(f, /a JSON object of settings, received ".*" \(holds an array\)/);
  });
});

describe('resolveRunConfig: nested keys, ranges and memory', () => {
  const problems = (req: Parameters<typeof resolveRunConfig>[0]): string => {
    try {
      resolveRunConfig(req);
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidConfigError);
      return (e as Error).message;
    }
    throw new Error('expected resolveRunConfig to throw');
  };

  it('names unknown keys inside objects by their dotted path', () => {
    const msg = problems({ game: 'catch', file: { network: { kind: 'mlp', hidden: [8], evil: 1 }, optimizer: { foo: 2 }, prioritized: { alpha: 0.5, zeta: 1 } } });
    expect(msg).toMatch(/unknown key "network.evil"/);
    expect(msg).toMatch(/unknown key "optimizer.foo"/);
    expect(msg).toMatch(/unknown key "prioritized.zeta"/);
    // Without a kind the unknown key is still named, beside the missing kind.
    const noKind = problems({ game: 'catch', file: { network: { evil: 1 } } });
    expect(noKind).toMatch(/network.kind = undefined/);
    expect(noKind).toMatch(/unknown key "network.evil"/);
    expect(problems({ game: 'catch', file: JSON.parse('{"__proto__": {"batchSize": 1}}') })).toMatch(/unknown key "__proto__"/);
    expect(problems({ game: 'catch', preset: 'constructor' })).toMatch(/\[preset\] expected one of/);
  });

  it('refuses a prioritized setting that is not an object or null (and never turns it on)', () => {
    for (const bad of [[], true, 1, 'yes']) expect(problems({ game: 'catch', file: { prioritized: bad } })).toMatch(/prioritized = .* \(want null or \{alpha, betaStart, betaSteps, epsilon\}\)/);
    expect(resolveRunConfig({ game: 'catch', file: { prioritized: null } }).agentConfig.prioritized).toBeNull();
  });

  it('refuses non-finite and out-of-range numbers', () => {
    const msg = problems({ game: 'catch', file: JSON.parse('{"optimizer": {"learningRate": 1e999}, "prioritized": {"alpha": 1e999}, "gradClipNorm": 1e999}') });
    expect(msg).toMatch(/optimizer.learningRate = Infinity \(want 0 < x <= 1\)/);
    expect(msg).toMatch(/prioritized.alpha = Infinity/);
    expect(msg).toMatch(/gradClipNorm = Infinity/);
    expect(problems({ game: 'catch', file: { optimizer: { learningRate: 1e30 } } })).toMatch(/optimizer.learningRate = 1e\+30/);
    expect(problems({ game: 'catch', agent: 'ppo', file: { lr: 1e30, adamEps: 1e999 } })).toMatch(/lr=1e\+30 \(in \(0, 1\]\).*adamEps=Infinity/);
    expect(problems({ game: 'catch', file: { evalEpisodes: 1e9, envs: 1e9 } })).toMatch(/envs = 1000000000 \(want an integer in \[1, 4096\]\).*evalEpisodes = 1000000000 \(want an integer in \[0, 100000\]\)/);
  });

  it('refuses sizes that do not fit in memory, naming the key, the estimate and the limit, before building anything', () => {
    expect(problems({ game: 'catch', file: { bufferSize: 1e9, network: { kind: 'mlp', hidden: [1e6, 1e6] }, lstmUnits: 1e6 } })).toMatch(/network.hidden = .*bufferSize = 1000000000.*lstmUnits = 1000000/);
    expect(problems({ game: 'catch', file: { network: { kind: 'mlp', hidden: [65536, 65536] } } })).toMatch(/network.hidden needs ~\d+ GiB of network weights \(4\d{9} parameters\) \(limit [\d.]+ [KMGT]iB, half of this machine's RAM\)/);
    expect(problems({ game: 'catch', file: { bufferSize: 50_000_000 }, memoryLimitBytes: 1e9 })).toMatch(/bufferSize needs ~\d\.\d GiB of replay memory \(limit 954 MiB, the memory limit asked for\)/);
    expect(problems({ game: 'catch/flicker', recurrent: true, file: { lstmUnits: 8192 }, memoryLimitBytes: 4e9 })).toMatch(/lstmUnits needs ~[\d.]+ GiB of network weights/);
    expect(problems({ game: 'catch', agent: 'ppo', file: { numSteps: 100_000, mlpHidden: [4096] }, flags: { envs: 4096 } })).toMatch(/numSteps needs ~[\d.]+ GiB of rollout memory/);
    expect(problems({ game: 'catch', flags: { envs: 4096 }, memoryLimitBytes: 3e6 })).toMatch(/envs needs ~3\.\d MiB of observation batches of the sub-envs \(limit 2\.9 MiB/);
    expect(problems({ game: 'catch', file: { bufferSize: 20_000 }, memoryLimitBytes: 1.5e6 })).toMatch(/memory: the settings need ~[\d.]+ MiB together \(.*bufferSize ~1\.3 MiB.*; limit 1\.4 MiB/);
    // Packing a 5 GB replay into a checkpoint needs one array longer than the runtime allows.
    expect(problems({ game: 'catch', file: { bufferSize: 80_000_000 }, flags: { saveReplay: true }, memoryLimitBytes: 1e12 })).toMatch(/saveReplay needs one array of \d+ values \(the replay memory packed into each checkpoint; limit 4294967295 per array\)/);
    expect(() => resolveRunConfig({ game: 'catch', file: { bufferSize: 80_000_000 }, memoryLimitBytes: 1e12 })).not.toThrow();
    // The settings of the game rows fit (checked here against a modest 2 GB).
    for (const game of ['catch', 'cartpole', 'memory-maze', 'catch/flicker', 'minatar/breakout']) expect(() => resolveRunConfig({ game, memoryLimitBytes: 2e9 })).not.toThrow();
  });

  it('aggregates every problem under exactly one "fix:"', () => {
    const msg = problems({ game: 'catch', file: { lerningRate: 1, batchSize: 0 }, flags: { steps: -3 } as never });
    expect(msg.match(/fix:/g)).toHaveLength(1);
    expect(msg).toMatch(/^\[train config\] expected valid settings, received steps = -3 .*unknown key "lerningRate".*batchSize = 0/);
    const pg = problems({ game: 'catch', agent: 'ppo', file: { clip: -1 } });
    expect(pg.match(/fix:/g)).toHaveLength(1);
    // An agent registered elsewhere whose error carries no list of problems.
    registerAgent('test-plain-error', { presets: { p: {} }, resolve: () => { throw new InvalidConfigError('[plain config] expected x, received y; fix: z'); }, create: () => { throw new Error('unused'); } });
    const plain = problems({ game: 'catch', agent: 'test-plain-error' });
    expect(plain).toMatch(/received \[plain config\] expected x, received y; fix: fix or remove/);
    expect(plain.match(/fix:/g)).toHaveLength(1);
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
    writeFileSync(join(ck, 'weights.online.bin'), new Uint8Array(10));
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
