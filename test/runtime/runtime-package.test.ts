/**
 * The light runtime package, packages/runtime (@npcforge/runtime), as a game installs it: packed
 * with `npm pack -w`, installed alone in a fresh project. Its node_modules stays small (no training
 * code, data sets, sharp or pixi), its declarations type-check a game's use of it, and its
 * policies act exactly as npcforge/runtime's do (an MLP, a pixel CNN with frame preprocessing and
 * an LSTM policy, act() and actBatch()).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/envs/rng.js';
import { loadPolicy } from '../../src/runtime/index.js';
import { treeBytes } from '../../bench/install-size.js';
import { writeLstmBundle, writePixelCnnBundle } from '../helpers/policy-bundles.js';

const root = join(__dirname, '..', '..');
const MAX_NODE_MODULES_MB = 150;
const scratch = mkdtempSync(join(tmpdir(), 'npcforge-runtime-pkg-'));
const project = join(scratch, 'game');

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): { status: number | null; stdout: string; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: r.status, stdout: r.stdout, out: `${r.stdout}\n${r.stderr}` };
}

const SEQ = 12;
const NPCS = 5;

/** Observations for each bundle: SEQ steps for one NPC (act) and NPCS at once (actBatch). */
function observations(): Record<string, { frames: number[][]; batch: number[][] }> {
  const rng = new SeededRng(9);
  const vec = (n: number, lo: number, hi: number, int = false) => Array.from({ length: n }, () => (int ? Math.floor(rng.random() * (hi - lo + 1)) + lo : lo + (hi - lo) * rng.random()));
  return {
    pong: { frames: Array.from({ length: SEQ }, () => vec(6, -2, 2)), batch: Array.from({ length: NPCS }, () => vec(6, -2, 2)) },
    cnn: { frames: Array.from({ length: SEQ }, () => vec(20 * 20 * 3, 0, 255, true)), batch: Array.from({ length: NPCS }, () => vec(20 * 20 * 3, 0, 255, true)) },
    lstm: { frames: Array.from({ length: SEQ }, () => vec(4, -1, 1)), batch: Array.from({ length: NPCS }, () => vec(4, -1, 1)) },
  };
}

/** Runs in the fresh project and in this process alike: act() over the sequence, then one actBatch. */
const PLAY = `
export async function play(loadPolicy, dir, game, obs, typed) {
  const policy = await loadPolicy(dir, { game });
  const seq = [];
  for (const f of obs.frames) {
    const r = await policy.act(new typed(f));
    seq.push({ action: r.action, values: Array.from(r.q ?? r.probs ?? []) });
  }
  const states = obs.batch.map(() => policy.createState());
  const batch = (await policy.actBatch(obs.batch.map((f) => new typed(f)), states)).map((r) => ({ action: r.action, values: Array.from(r.q ?? r.probs ?? []) }));
  policy.dispose();
  return { seq, batch };
}
`;
const BUNDLES = [
  { name: 'pong', game: 'pong', typed: 'Float32Array' },
  { name: 'cnn', game: 'pix', typed: 'Uint8Array' },
  { name: 'lstm', game: 'memory-maze', typed: 'Float32Array' },
] as const;

beforeAll(async () => {
  await tf.ready();
  // The bundles: the committed pong NPC, and two written here.
  cpSync(join(root, 'examples', 'pong', 'npc'), join(scratch, 'npc', 'pong'), { recursive: true });
  await writePixelCnnBundle(join(scratch, 'npc', 'cnn'));
  await writeLstmBundle(join(scratch, 'npc', 'lstm'));

  // dist/ is fresh (vitest global setup builds packages/runtime too); --ignore-scripts skips prepack.
  const pack = run('npm', ['pack', '-w', '@npcforge/runtime', '--ignore-scripts', '--json', '--pack-destination', scratch], root, 120_000);
  expect(pack.status, pack.out).toBe(0);
  const tarball = join(scratch, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-game', private: true, type: 'module' }, null, 2));
  const install = run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project);
  expect(install.status, install.out).toBe(0);
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('@npcforge/runtime installed alone in a fresh project', () => {
  it(`has a node_modules of at most ${MAX_NODE_MODULES_MB} MB, with tfjs core, layers and the cpu/webgl backends and none of the training side`, () => {
    const nm = join(project, 'node_modules');
    const mb = treeBytes(nm) / 2 ** 20;
    console.log(`@npcforge/runtime: fresh project node_modules ${mb.toFixed(1)} MB`);
    expect(mb).toBeLessThanOrEqual(MAX_NODE_MODULES_MB);
    for (const p of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-webgl']) expect(existsSync(join(nm, p)), p).toBe(true);
    const unwanted = ['npcforge', '@tensorflow/tfjs', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-data', 'pixi.js', 'sharp', 'mnist', 'fashion-mnist', '@stdlib', 'sentiment', 'commander', 'msgpackr', 'esbuild'];
    expect(unwanted.filter((p) => existsSync(join(nm, p)))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(nm, '@npcforge', 'runtime', 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it("type-checks a game's use of it: its declarations resolve without npcforge or @tensorflow/tfjs", () => {
    writeFileSync(
      join(project, 'game.ts'),
      [
        "import { loadPolicy, setBackend, getBackend, NpcState, SpaceMismatchError, type Policy, type PolicyAction } from '@npcforge/runtime';",
        "await setBackend('cpu');",
        "const policy: Policy = await loadPolicy('./npc/pong/', { game: 'pong' });",
        'const states: NpcState[] = [policy.createState(), policy.createState()];',
        'const results: PolicyAction[] = await policy.actBatch([new Float32Array(6), new Float32Array(6)], states);',
        'const layers: number = policy.model.layers.length;',
        '// @ts-expect-error actBatch takes an array of observations (fails as unused if the types were any)',
        "await policy.actBatch('not observations', states);",
        'console.log(getBackend(), results[0]!.actionName, layers, SpaceMismatchError.name);',
      ].join('\n'),
    );
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: [] }, files: ['game.ts'] }));
    const r = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project, 120_000);
    // tfjs's own declarations do not pass a strict check without skipLibCheck; every other file must.
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l) && !l.startsWith('node_modules/@tensorflow/'));
    expect(errors).toEqual([]);
    expect(r.stdout).not.toMatch(/Cannot find module|TS2307/);
  }, 120_000);

  it('acts exactly as npcforge/runtime does (MLP, pixel CNN with preprocessing, LSTM; act and actBatch)', async () => {
    const obs = observations();
    writeFileSync(join(project, 'obs.json'), JSON.stringify(obs));
    writeFileSync(join(project, 'play.mjs'), PLAY);
    cpSync(join(scratch, 'npc'), join(project, 'npc'), { recursive: true });
    writeFileSync(
      join(project, 'run.mjs'),
      [
        "import { readFileSync } from 'node:fs';",
        "import { loadPolicy, setBackend } from '@npcforge/runtime';",
        "import { play } from './play.mjs';",
        "await setBackend('cpu');",
        "const obs = JSON.parse(readFileSync('obs.json', 'utf8'));",
        'const out = {};',
        `for (const b of ${JSON.stringify(BUNDLES)}) out[b.name] = await play(loadPolicy, './npc/' + b.name + '/', b.game, obs[b.name], globalThis[b.typed]);`,
        'console.log(JSON.stringify(out));',
      ].join('\n'),
    );
    const r = run(process.execPath, ['run.mjs'], project, 120_000);
    expect(r.status, r.out).toBe(0);
    const theirs = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, { seq: { action: number; values: number[] }[]; batch: { action: number; values: number[] }[] }>;
    writeFileSync(join(scratch, 'play.mjs'), PLAY);
    const { play } = (await import(join(scratch, 'play.mjs'))) as { play: (...a: unknown[]) => Promise<typeof theirs[string]> };
    for (const b of BUNDLES) {
      const ours = await play(loadPolicy, join(scratch, 'npc', b.name), b.game, obs[b.name], b.typed === 'Uint8Array' ? Uint8Array : Float32Array);
      const got = theirs[b.name]!;
      for (const [kind, a, e] of [['seq', got.seq, ours.seq], ['batch', got.batch, ours.batch]] as const) {
        expect(a.map((x) => x.action), `${b.name} ${kind} actions`).toEqual(e.map((x) => x.action));
        const diff = Math.max(...a.flatMap((x, i) => x.values.map((v, j) => Math.abs(v - e[i]!.values[j]!))));
        expect(diff, `${b.name} ${kind} values`).toBeLessThanOrEqual(1e-5);
        expect(a[0]!.values.length).toBeGreaterThan(0);
      }
    }
  }, 180_000);
});
