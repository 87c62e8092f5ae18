import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('package entry point', () => {
  it("supports `import { make } from 'npcforge'` from the built package", () => {
    const script = [
      "import { make, listEnvs, WorkerVectorEnv, FrameStack, checkEnv, InvalidConfigError } from 'npcforge';",
      "const env = make('catch');",
      'const { obs } = env.reset({ seed: 1 });',
      "console.log(JSON.stringify({ ids: listEnvs().map((e) => e.id), size: obs.length, ok: [WorkerVectorEnv, FrameStack, checkEnv, InvalidConfigError].every((x) => typeof x === 'function') }));",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.ids).toEqual(expect.arrayContaining(['catch', 'cartpole']));
    expect(out.size).toBe(50);
    expect(out.ok).toBe(true);
  });
});

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = (args: string[], cwd = root, timeout = 120_000) => spawnSync('npm', args, { cwd, encoding: 'utf8', timeout });

describe('package contents', () => {
  it('ships docs, examples and the licence, and leaves out benchmarks and build stamps', () => {
    const r = npm(['pack', '--dry-run', '--json', '--ignore-scripts']);
    expect(r.status, r.stderr).toBe(0);
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    for (const f of ['LICENSE', 'README.md', 'docs/export.md', 'docs/viewer.png', 'examples/node-game-loop.mjs', 'examples/pong/npc/policy.json', 'examples/pong/npc/weights.bin', 'dist/src/cli/main.js', 'dist/games/index.js', 'dist/src/supervised/index.js']) {
      expect(files, f).toContain(f);
    }
    const unwanted = files.filter((f) => /^(dist\/bench\/|dist\/\.build-stamp|test\/|scripts\/|runs\/)/.test(f) || /\.tmp\./.test(f) || (f.startsWith('bench/') && f !== 'bench/JOURNAL.md'));
    expect(unwanted).toEqual([]);
    // Every relative link of the README and the docs points at a shipped file.
    const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const links = docs.flatMap((doc) =>
      [...readFileSync(join(root, doc), 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
        .map((m) => m[1]!)
        .filter((l) => !/^[a-z]+:/.test(l))
        .map((l) => ({ doc, target: posix.normalize(posix.join(posix.dirname(doc), l)).replace(/\/$/, '') })),
    );
    expect(links.length).toBeGreaterThan(10);
    const broken = links.filter(({ target }) => !files.some((f) => f === target || f.startsWith(`${target}/`)));
    expect(broken).toEqual([]);
  });

  it('declares its licence (MIT, with the text) and repository', () => {
    expect(pkg.license).toBe('MIT');
    expect(pkg.repository).toEqual({ type: 'git', url: 'git+https://github.com/npcforge/npcforge.git' });
    const text = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^MIT License\n/);
    expect(text).toContain('npcforge contributors');
  });

  it('has no scratch script committed at the root', () => {
    const r = spawnSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((f) => !f.includes('/') && /\.tmp\.|^scratch/.test(f))).toEqual([]);
  });

  it('covers every dependency install script with allowScripts', () => {
    const major = Number(npm(['--version']).stdout.split('.')[0]);
    if (major < 11) return; // allowScripts arrived with npm 11
    const r = npm(['install-scripts', 'ls']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('No packages with unreviewed install scripts');
  });

  // npm 11 adds optional platform packages to the lock; a lock written by another npm differs.
  it('keeps package-lock.json as npm 11 writes it (a fresh install leaves the tree clean)', () => {
    const major = Number(npm(['--version']).stdout.split('.')[0]);
    if (major !== 11) return;
    const dir = mkdtempSync(join(tmpdir(), 'npcforge-lock-'));
    try {
      // The workspaces' package.json files are part of the lock's input too.
      const workspaces = readdirSync(join(root, 'packages')).map((w) => join('packages', w, 'package.json'));
      for (const f of ['package.json', 'package-lock.json', ...workspaces]) {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        copyFileSync(join(root, f), join(dir, f));
      }
      const r = npm(['install', '--package-lock-only', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], dir);
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(join(dir, 'package-lock.json'), 'utf8') === readFileSync(join(root, 'package-lock.json'), 'utf8'), 'npm rewrote package-lock.json: run npm install and commit it').toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('package entry points', () => {
  it('exports what the docs import: npcforge/games, npcforge/supervised, train from the root', () => {
    const script = [
      "import { PongEnv, CatchEnv, MinAtarEnv } from 'npcforge/games';",
      "import { fitTask, SupervisedRun } from 'npcforge/supervised';",
      "import { resolveRunConfig, train, listEnvs } from 'npcforge';",
      "console.log(JSON.stringify({ fns: [PongEnv, CatchEnv, MinAtarEnv, fitTask, SupervisedRun, resolveRunConfig, train].map((x) => typeof x), pong: listEnvs().some((e) => e.id === 'pong') }));",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.fns).toEqual(Array(7).fill('function'));
    expect(out.pong).toBe(true);
  });

  // `npm init -y` makes a CommonJS project: require() must find the entry points (Node >= 20.19 loads ES modules through it).
  it.runIf(process.features.require_module === true)('supports require() of every entry point from a CommonJS script', () => {
    const script = [
      "const { make } = require('npcforge');",
      "const { loadPolicy } = require('npcforge/runtime');",
      "const { PongEnv } = require('npcforge/games');",
      "const { fitTask } = require('npcforge/supervised');",
      "console.log(JSON.stringify([make, loadPolicy, PongEnv, fitTask].map((x) => typeof x)));",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=commonjs', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(Array(4).fill('function'));
  });

  it('keeps npcforge/runtime apart from the games and the supervised pipelines', () => {
    expect(Object.keys(pkg.exports)).toEqual(['.', './runtime', './games', './supervised', './package.json']);
    const runtime = readFileSync(join(root, 'src', 'runtime', 'index.ts'), 'utf8');
    expect(runtime).not.toMatch(/supervised|games\/|sharp/);
  });
});
