/**
 * `--import <module>` from the built CLI, the way a user walks it: a game module written only
 * against the public API (`import { register } from 'npcforge'`) in its own project, where
 * npcforge is installed (a symlink to this package), trained with --import; then eval, export,
 * record --policy <run>, replay verify and train --resume of that run without the flag. Then the
 * bad modules, and npcforge's own version from a project with another version.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'npcforge.js');
const OWN_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const project = mkdtempSync(join(tmpdir(), 'npcforge-import-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** A one-dimensional corridor: walk right to the goal. Public API only. */
const GAME = `import { register, Box, Discrete, SeededRng } from 'npcforge';

const LENGTH = 5;
class Corridor {
  constructor(options) {
    this.observationSpace = new Box({ shape: [LENGTH], dtype: 'float32', low: 0, high: 1 });
    this.actionSpace = new Discrete(2);
    this.spec = { id: 'corridor', actionNames: ['left', 'right'], options: { ...options } };
    this.rng = new SeededRng(0);
    this.pos = 0;
  }
  obs() {
    const o = new Float32Array(LENGTH);
    o[this.pos] = 1;
    return o;
  }
  reset(args = {}) {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    this.pos = this.rng.int(0, 2);
    return { obs: this.obs(), info: {} };
  }
  step(action) {
    this.pos = Math.max(0, Math.min(LENGTH - 1, this.pos + (action === 1 ? 1 : -1)));
    const done = this.pos === LENGTH - 1;
    return { obs: this.obs(), reward: done ? 1 : -0.01, terminated: done, truncated: false, info: {} };
  }
  render() {
    const data = new Uint8Array(LENGTH * 3);
    data[this.pos * 3] = 255;
    return { width: LENGTH, height: 1, data };
  }
  close() {}
}

register('corridor', (options) => new Corridor(options), { maxEpisodeSteps: 20, description: 'walk right to the goal' });
`;

function cli(args: string[], cwd = project): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', NPCFORGE_DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, exit code 2, no stack trace. */
function expectUsageLine(r: { status: number | null; stderr: string }, ...parts: string[]): void {
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  for (const p of parts) expect(r.stderr).toContain(p);
}

mkdirSync(join(project, 'node_modules'));
symlinkSync(ROOT, join(project, 'node_modules', 'npcforge'), 'dir');
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-game', version: '9.9.9', type: 'module', private: true }));
writeFileSync(join(project, 'game.mjs'), GAME);
// The same game as an installed package of the project, named by its package name.
mkdirSync(join(project, 'node_modules', 'corridor-pkg'));
writeFileSync(join(project, 'node_modules', 'corridor-pkg', 'package.json'), JSON.stringify({ name: 'corridor-pkg', version: '1.0.0', type: 'module', exports: { '.': { import: './index.js' } } }));
writeFileSync(join(project, 'node_modules', 'corridor-pkg', 'index.js'), GAME.replace("register('corridor'", "register('corridor-pkg'"));
writeFileSync(join(project, 'throws.mjs'), "throw new Error('boom at line one\\nsecond line');\n");
writeFileSync(join(project, 'empty.mjs'), 'export const nothing = 1;\n');
writeFileSync(join(project, 'twice.mjs'), "import { register } from 'npcforge';\nregister('twin', () => null);\nregister('twin', () => null);\n");
writeFileSync(join(project, 'catch-again.mjs'), "import { register } from 'npcforge';\nregister('catch', () => null);\n");
// A second project whose own "npcforge" is another copy: its register() does not reach this CLI.
const elsewhere = join(project, 'elsewhere');
mkdirSync(join(elsewhere, 'node_modules', 'npcforge'), { recursive: true });
writeFileSync(join(elsewhere, 'node_modules', 'npcforge', 'package.json'), JSON.stringify({ name: 'npcforge', version: '0.0.1', type: 'module', exports: { '.': './index.js' } }));
writeFileSync(join(elsewhere, 'node_modules', 'npcforge', 'index.js'), 'export function register() {}\n');
writeFileSync(join(elsewhere, 'game.mjs'), "import { register } from 'npcforge';\nregister('corridor', () => null);\n");
writeFileSync(join(project, 'other.mjs'), "import { register } from 'npcforge';\nregister('other', () => null);\n");
writeFileSync(join(project, 'other-too.mjs'), "import { register } from 'npcforge';\nregister('other', () => null);\n");

describe('npcforge --import (CLI)', () => {
  it('trains a user game with --import; eval, export, record --policy, replay verify and --resume of the run work without it', async () => {
    const t = cli(['train', 'corridor', '--import', './game.mjs', '--agent', 'ppo', '--steps', '256', '--seed', '1', '--no-progress', '--json', '--out', 'runs']);
    expect(t.stderr).not.toContain('error');
    expect(t.status).toBe(0);
    const runDir = (JSON.parse(t.stdout.trim().split('\n').pop()!) as { runDir: string }).runDir;
    const run = join(project, runDir);
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config.imports).toEqual([{ spec: './game.mjs', url: pathToFileURL(join(project, 'game.mjs')).href }]);
    expect(config.versions.npcforge).toBe(OWN_VERSION);

    const e = cli(['eval', runDir, '--episodes', '2', '--json']);
    expect(e.stderr).not.toContain('npcforge: [');
    expect(e.stderr).toContain(`npcforge: importing ./game.mjs (${join(project, 'game.mjs')}), recorded by run ${runDir}`);
    expect(e.status).toBe(0);
    expect(JSON.parse(e.stdout).episodes).toBe(2);

    const x = cli(['export', runDir, '--json']);
    expect(x.status).toBe(0);
    expect(JSON.parse(x.stdout.trim().split('\n').pop()!).game.id).toBe('corridor');

    const r = cli(['record', 'corridor', '--policy', runDir, '--episodes', '1']);
    expect(r.stderr).not.toContain('npcforge: [');
    expect(r.status).toBe(0);
    // record prints `<path>  steps ...`; the episode lands in <run>/episodes next to the eval episodes.
    const recorded = r.stdout.trim().split(/\s+/)[0]!;
    expect(readdirSync(join(run, 'episodes'))).toContain(recorded.split('/').pop());

    const v = cli(['replay', 'verify', recorded]);
    expect(v.stdout).toContain('ok  ');
    expect(v.status).toBe(0);

    // view serves the run's episodes and curves (frames are in the files: no game module needed).
    const viewer = spawn(process.execPath, [BIN, 'view', 'runs', '--port', '0'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        viewer.stdout.on('data', (d: Buffer) => {
          out += String(d);
          const m = /at (http:\/\/\S+)/.exec(out);
          if (m) ok(m[1]!);
        });
        viewer.on('exit', (code) => fail(new Error(`view exited with ${code}`)));
      });
      const res = await fetch(new URL(`api/runs/${encodeURIComponent(runDir.split('/').pop()!)}/episodes`, url.endsWith('/') ? url : `${url}/`));
      expect(res.status).toBe(200);
      expect(JSON.stringify(await res.json())).toContain(recorded.split('/').pop()!.replace(/\.npcep$/, ''));
    } finally {
      viewer.kill('SIGTERM');
    }

    const resumed = cli(['train', '--resume', runDir, '--steps', '384', '--no-progress', '--json']);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout.trim().split('\n').pop()!).step).toBe(384);

    // Without the module the same commands know no corridor: the flag or the run is what brings it.
    const plain = cli(['stats', 'corridor', '--policy', 'random', '--episodes', '1']);
    expectUsageLine(plain, 'received "corridor"', '--import <module>');

    // A module that is gone: one line naming it and the run.
    renameSync(join(project, 'game.mjs'), join(project, 'game-moved.mjs'));
    try {
      const gone = cli(['eval', runDir, '--episodes', '1']);
      expectUsageLine(gone, '"./game.mjs"', `run ${runDir}`, 'no longer exists');
      const moved = cli(['eval', runDir, '--episodes', '1', '--import', './game-moved.mjs']);
      expect(moved.stderr).not.toContain('npcforge: [');
      expect(moved.status).toBe(0);
    } finally {
      renameSync(join(project, 'game-moved.mjs'), join(project, 'game.mjs'));
    }
  }, 240_000);

  it('trains a user game over worker envs: the workers import the module, also on --resume', () => {
    // With progress lines: the start lines say where the envs step.
    const args = ['--agent', 'ppo', '--envs', '4', '--seed', '2', '--json'];
    const workers = cli(['train', 'corridor', '--import', './game.mjs', '--vector-env', 'workers', '--steps', '1024', '--out', 'runs-workers', ...args]);
    // 4 envs: halves too small to double-buffer (see DOUBLE_BUFFER_MIN_HALF); the workers step all at once.
    expect(workers.stderr).toContain('4 envs in worker threads (vectorEnv workers)');
    expect(workers.status).toBe(0);
    const runDir = (JSON.parse(workers.stdout.trim().split('\n').pop()!) as { runDir: string }).runDir;
    const resumed = cli(['train', '--resume', runDir, '--vector-env', 'workers', '--steps', '1536', '--json']);
    expect(resumed.stderr).toContain('4 envs in worker threads');
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout.trim().split('\n').pop()!).step).toBe(1536);
    // The same seed in this process: the same metrics (timings aside).
    const sync = cli(['train', 'corridor', '--import', './game.mjs', '--vector-env', 'sync', '--steps', '1024', '--out', 'runs-sync', ...args]);
    expect(sync.status).toBe(0);
    const metrics = (out: string) => {
      const dir = join(project, (JSON.parse(out.trim().split('\n').pop()!) as { runDir: string }).runDir);
      const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
        const { env_steps_per_s: _a, updates_per_s: _b, wall_time_s: _c, tensors: _d, ...rest } = JSON.parse(l);
        return rest as { step: number };
      });
      return lines.filter((l) => l.step <= 1024);
    };
    expect(metrics(workers.stdout).length).toBeGreaterThan(1);
    expect(metrics(workers.stdout)).toEqual(metrics(sync.stdout));
  }, 120_000);

  it('resolves paths, bare .mjs names, file URLs and absolute paths from the working folder; games lists the imported game', () => {
    for (const spec of ['game.mjs', pathToFileURL(join(project, 'game.mjs')).href, join(project, 'game.mjs')]) {
      const g = cli(['games', '--json', '--import', spec]);
      expect(g.status).toBe(0);
      expect((JSON.parse(g.stdout) as Array<{ id: string }>).map((r) => r.id)).toContain('corridor');
    }
  });

  it('resolves a package name from the project (not npcforge\'s node_modules) on stats', () => {
    const s = cli(['stats', 'corridor-pkg', '--import', 'corridor-pkg', '--policy', 'fixed:r', '--episodes', '2', '--json']);
    expect(s.stderr).not.toContain('npcforge: [');
    expect(s.status).toBe(0);
    expect(JSON.parse(s.stdout).length.mean).toBeLessThanOrEqual(4);
  });

  it('reports bad modules in one line with exit code 2', () => {
    expectUsageLine(cli(['stats', 'corridor', '--import', './throws.mjs', '--policy', 'random', '--episodes', '1']), 'module "./throws.mjs" to import cleanly', 'Error: boom at line one');
    expect(cli(['stats', 'corridor', '--import', './throws.mjs', '--policy', 'random', '--episodes', '1']).stderr).not.toContain('second line');
    expectUsageLine(cli(['stats', 'corridor', '--import', './empty.mjs', '--policy', 'random', '--episodes', '1']), 'module "./empty.mjs" to register game "corridor"', 'registered no game');
    expectUsageLine(cli(['stats', 'twin', '--import', './twice.mjs', '--policy', 'random', '--episodes', '1']), '"twin" registered by "./twice.mjs" itself and again by "./twice.mjs"');
    expectUsageLine(cli(['stats', 'other', '--import', './other.mjs', '--import', './other-too.mjs', '--policy', 'random', '--episodes', '1']), '"other" registered by "./other.mjs" and again by "./other-too.mjs"');
    expectUsageLine(cli(['stats', 'catch', '--import', './catch-again.mjs', '--policy', 'random', '--episodes', '1']), '"catch" registered by npcforge (bundled game) and again by "./catch-again.mjs"');
    expectUsageLine(cli(['stats', 'corridor', '--import', './game.mjs', '--import', './game-copy.mjs', '--policy', 'random', '--episodes', '1']), '"./game-copy.mjs", not found from');
    expectUsageLine(cli(['stats', 'nope', '--import', './other.mjs', '--policy', 'random', '--episodes', '1']), 'a game "nope" registered by the imported modules', '"./other.mjs" registered "other"');
    expectUsageLine(cli(['stats', 'corridor', '--import', './elsewhere/game.mjs', '--policy', 'random', '--episodes', '1']), 'a module that imports another npcforge', join(elsewhere, 'node_modules', 'npcforge'), 'npx npcforge');
    expectUsageLine(cli(['stats', 'nope', '--import', 'not-installed-pkg', '--policy', 'random', '--episodes', '1']), '"not-installed-pkg", not found from');
  }, 120_000);

  it("reports npcforge's own version, not the host project's, run from another project", () => {
    const r = cli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(OWN_VERSION);
    expect(OWN_VERSION).not.toBe('9.9.9');
    // As `npx npcforge` runs it: through the project's node_modules/.bin-style path, with npm's variable set.
    const viaProject = spawnSync(process.execPath, [join(project, 'node_modules', 'npcforge', 'bin', 'npcforge.js'), '--version'], { cwd: project, encoding: 'utf8', env: { ...process.env, npm_package_version: '9.9.9' } });
    expect(viaProject.stdout.trim()).toBe(OWN_VERSION);
  });
});
