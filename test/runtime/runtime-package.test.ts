/**
 * The light runtime package, packages/runtime (@npcforge/runtime), as a game installs it: packed
 * with `npm pack -w`, installed alone in a fresh project. Its node_modules stays small (no training
 * code, data sets, sharp or pixi), its declarations type-check a game's use of it, and its
 * policies act exactly as npcforge/runtime's do (DQN and PPO MLPs, a pixel CNN with frame
 * preprocessing and an LSTM policy; act() and actBatch()), in Node and, bundled for a page, in Chromium.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { build } from 'esbuild';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/envs/rng.js';
import { decodePath, sendFile, startLocalServer } from '../../src/render/static-files.js';
import { loadPolicy } from '../../src/runtime/index.js';
import { collectPageErrors, launchChromium } from '../../bench/browser-page.js';
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
    arena: { frames: Array.from({ length: SEQ }, () => vec(14, -1, 1)), batch: Array.from({ length: NPCS }, () => vec(14, -1, 1)) },
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
  // PPO's orthogonal initializer calls chained tensor ops that the browser build must register.
  { name: 'arena', game: 'arena', typed: 'Float32Array' },
] as const;

beforeAll(async () => {
  await tf.ready();
  // The bundles: the committed pong and arena NPCs, and two written here.
  cpSync(join(root, 'examples', 'pong', 'npc'), join(scratch, 'npc', 'pong'), { recursive: true });
  cpSync(join(root, 'examples', 'arena', 'npc'), join(scratch, 'npc', 'arena'), { recursive: true });
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
  // What the game's scripts and page play: the observations, the play loop and the bundles.
  writeFileSync(join(project, 'obs.json'), JSON.stringify(observations()));
  writeFileSync(join(project, 'play.mjs'), PLAY);
  cpSync(join(scratch, 'npc'), join(project, 'npc'), { recursive: true });
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
    expect(await nodeVsInstalled()).toBeGreaterThan(0);
  }, 180_000);

  it("bundles for a page through its browser build and acts there as in Node (Chromium, tfjs cpu)", async () => {
    // The game's page, bundled by the game's bundler from the installed package.
    writeFileSync(join(project, 'page.mjs'), [
      "import { loadPolicy, setBackend } from '@npcforge/runtime';",
      "import { play } from './play.mjs';",
      'try {',
      "  await setBackend('cpu');",
      "  const obs = await (await fetch('./obs.json')).json();",
      '  const out = {};',
      `  for (const b of ${JSON.stringify(BUNDLES)}) out[b.name] = await play(loadPolicy, './npc/' + b.name + '/', b.game, obs[b.name], globalThis[b.typed]);`,
      '  globalThis.result = out;',
      '} catch (err) {',
      '  globalThis.result = { error: String(err && err.stack || err) };',
      '}',
    ].join('\n'));
    const r = await build({ entryPoints: [join(project, 'page.mjs')], outfile: join(project, 'page', 'app.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, metafile: true, logLevel: 'silent', absWorkingDir: project });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.filter((f) => f.includes('@npcforge/runtime/'))).toEqual(['node_modules/@npcforge/runtime/dist/browser.js']);
    expect(inputs.filter((f) => f.startsWith('node:'))).toEqual([]);
    writeFileSync(join(project, 'page', 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="app.js"></script>');
    const server = await startLocalServer({
      component: 'runtime package page',
      host: '127.0.0.1',
      port: 0,
      handle: async (req, res, head) => {
        const seg = decodePath(req.url ?? '/');
        // The page and the files the Node run used (obs.json, npc/).
        const path = seg[0] === '' ? join(project, 'page', 'index.html') : seg[0] === 'app.js' ? join(project, 'page', 'app.js') : join(project, ...seg);
        const type = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' }[extname(path)] ?? 'application/octet-stream';
        await sendFile(res, { root: project, path, type, head });
      },
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await page.goto(server.url);
      await page.waitForFunction(() => (globalThis as { result?: unknown }).result !== undefined, undefined, { timeout: 60_000 });
      const got = (await page.evaluate(() => (globalThis as { result?: unknown }).result)) as Played & { error?: string };
      expect(got.error).toBeUndefined();
      expect(errors).toEqual([]);
      expect(await compareWithOurs(got)).toBeGreaterThan(0);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 180_000);
});

type Played = Record<string, { seq: { action: number; values: number[] }[]; batch: { action: number; values: number[] }[] }>;

/** Asserts `theirs` equals what npcforge/runtime gives in this process (actions, values within 1e-5); returns how many values were compared. */
async function compareWithOurs(theirs: Played): Promise<number> {
  const obs = observations();
  writeFileSync(join(scratch, 'play.mjs'), PLAY);
  const { play } = (await import(join(scratch, 'play.mjs'))) as { play: (...a: unknown[]) => Promise<Played[string]> };
  let compared = 0;
  for (const b of BUNDLES) {
    const ours = await play(loadPolicy, join(scratch, 'npc', b.name), b.game, obs[b.name], b.typed === 'Uint8Array' ? Uint8Array : Float32Array);
    const got = theirs[b.name]!;
    for (const [kind, a, e] of [['seq', got.seq, ours.seq], ['batch', got.batch, ours.batch]] as const) {
      expect(a.map((x) => x.action), `${b.name} ${kind} actions`).toEqual(e.map((x) => x.action));
      const diff = Math.max(...a.flatMap((x, i) => x.values.map((v, j) => Math.abs(v - e[i]!.values[j]!))));
      expect(diff, `${b.name} ${kind} values`).toBeLessThanOrEqual(1e-5);
      expect(a[0]!.values.length).toBeGreaterThan(0);
      compared += a.reduce((n, x) => n + x.values.length, 0);
    }
  }
  return compared;
}

/** Runs the three bundles with the installed package in Node (tfjs cpu) and compares. */
async function nodeVsInstalled(): Promise<number> {
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
  return compareWithOurs(JSON.parse(r.stdout.trim().split('\n').pop()!) as Played);
}
