/**
 * `npm run bench -- install-size`: what a game pulls in. Packs npcforge and @npcforge/runtime and
 * installs each alone in a fresh project (npcforge also with its optional data-set packages, the
 * install every user got before they became optional), measuring node_modules (file bytes, and
 * disk use as `du` counts it); then bundles a browser page that loads a policy with
 * @npcforge/runtime (and the arena example page when it exists) minified with esbuild, and splits
 * the bytes by package. Needs the npm registry (or its cache) for the installs. Flags: --json out.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, printTable, writeJson, type Bench, type BenchArgs, repoRoot } from './harness.js';


const MB = 2 ** 20;

/** Bytes of every file under `dir` (symlinks not followed), like `du --apparent-size`. */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += treeBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface InstallRow {
  install: string;
  packages: number;
  node_modules_mb: number;
  disk_mb: number;
}

function install(name: string, tmp: string, specs: string[]): InstallRow {
  const dir = join(tmp, name.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'game', private: true, type: 'module' }));
  npm(['install', ...specs, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  const nm = join(dir, 'node_modules');
  const disk = Number(execFileSync('du', ['-sk', nm], { encoding: 'utf8' }).split('\t')[0]) / 1024;
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  return { install: name, packages: Object.keys(lock.packages).filter((k) => k !== '').length, node_modules_mb: treeBytes(nm) / MB, disk_mb: disk };
}

interface BundleRow {
  page: string;
  minified_kb: number;
  runtime_kb: number;
  tfjs_kb: number;
  pixi_kb: number;
  other_kb: number;
}

/** Minified esbuild bundle of `entry`; bytes in the output split by where they came from. */
async function bundleSize(root: string, page: string, entry: string, outDir: string): Promise<BundleRow> {
  const esbuild = await import('esbuild');
  const outfile = join(outDir, `${page}.js`);
  const r = await esbuild.build({ entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, metafile: true, legalComments: 'none', logLevel: 'error', absWorkingDir: root });
  const out = Object.values(r.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
  const by = { runtime: 0, tfjs: 0, pixi: 0, other: 0 };
  for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
    const key = /node_modules\/@tensorflow\//.test(input) ? 'tfjs' : /node_modules\/(pixi\.js|@pixi)\//.test(input) ? 'pixi' : /(^|\/)(src\/runtime|src\/errors|src\/envs|packages\/runtime)\//.test(input) ? 'runtime' : 'other';
    by[key] += bytesInOutput;
  }
  return { page, minified_kb: statSync(outfile).size / 1024, runtime_kb: by.runtime / 1024, tfjs_kb: by.tfjs / 1024, pixi_kb: by.pixi / 1024, other_kb: by.other / 1024 };
}

async function run(args: BenchArgs): Promise<unknown> {
  const root = repoRoot();
  const tmp = mkdtempSync(join(tmpdir(), 'npcforge-bench-install-'));
  try {
    const pack = (extra: string[]) => join(tmp, (JSON.parse(npm(['pack', ...extra, '--ignore-scripts', '--json', '--pack-destination', tmp], root)) as Array<{ filename: string }>)[0]!.filename);
    const main = pack([]);
    const runtime = pack(['-w', '@npcforge/runtime']);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
    const datasets = Object.entries(pkg.peerDependencies).map(([n, v]) => `${n}@${v}`);
    const installs = [install('@npcforge/runtime', tmp, [runtime]), install('npcforge', tmp, [main]), install('npcforge + data-set packages', tmp, [main, ...datasets])];
    printTable(
      ['install (fresh project)', 'packages', 'node_modules MB', 'disk MB (du)'],
      installs.map((r) => [r.install, String(r.packages), r.node_modules_mb.toFixed(1), r.disk_mb.toFixed(1)]),
    );

    // A page that only loads and runs a policy: the runtime and the tfjs parts it uses.
    const pageDir = join(root, 'tmp');
    mkdirSync(pageDir, { recursive: true });
    const entry = join(pageDir, `install-size-page-${process.pid}.js`);
    writeFileSync(entry, "import { loadPolicy, setBackend } from '@npcforge/runtime';\nawait setBackend('webgl');\nconst npc = await loadPolicy('./npc/', { game: 'arena' });\nconsole.log(npc.actBatch);\n");
    const bundles: BundleRow[] = [];
    try {
      bundles.push(await bundleSize(root, 'runtime + tfjs (cpu, webgl)', entry, tmp));
    } finally {
      rmSync(entry, { force: true });
    }
    const arena = join(root, 'examples', 'arena', 'main.ts');
    if (existsSync(arena)) bundles.push(await bundleSize(root, 'examples/arena page', arena, tmp));
    printTable(
      ['browser bundle (minified)', 'total KB', 'runtime KB', 'tfjs KB', 'pixi KB', 'other KB'],
      bundles.map((b) => [b.page, b.minified_kb.toFixed(1), b.runtime_kb.toFixed(1), b.tfjs_kb.toFixed(1), b.pixi_kb.toFixed(1), b.other_kb.toFixed(1)]),
    );
    const result = { installs, bundles, machine: machine() };
    writeJson(args, 'install-size', result);
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const bench: Bench = { description: 'node_modules of a fresh project installing npcforge or @npcforge/runtime; minified browser bundle of a runtime page', run };
