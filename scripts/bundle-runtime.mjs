// Builds the light runtime package, packages/runtime (@npcforge/runtime), from the one runtime
// source, src/runtime: dist/index.js is src/runtime bundled with '@tensorflow/tfjs' replaced by
// packages/runtime/src/tfjs.js (tfjs core + layers + the cpu/webgl backends, left external as the
// package's dependencies), and dist/types/ the declarations tsc wrote for src/runtime and what
// they import. `npcforge/runtime` keeps serving dist/src/runtime from the main package: one
// source, two builds. platform 'browser' makes esbuild fail on any Node built-in reaching the
// bundle; the Node-only file reader is behind a non-literal dynamic import.
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';

const TFJS_PARTS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-wasm'];

/**
 * The tfjs packages stay imports of the built package (its dependencies). In the Node build only
 * their names do: a deep import into one (tfjs-core's chained-op registrations) is bundled in,
 * as @tensorflow/tfjs's own Node build does, because Node cannot load tfjs-core's ES module files
 * and its CommonJS build does not register them. The ops they reach share tfjs's engine and
 * Tensor class through tfjs's global registry. The browser build leaves deep imports to the
 * page's bundler, which resolves them next to the tfjs-core the rest imports.
 */
function tfjsExternals(browser) {
  const names = TFJS_PARTS.map((n) => n.replace(/[/.-]/g, (c) => `\\${c}`)).join('|');
  const filter = new RegExp(`^(${names})${browser ? '(/.*)?' : ''}$`);
  return { name: 'tfjs-externals', setup: (b) => b.onResolve({ filter }, (args) => ({ path: args.path, external: true })) };
}

/**
 * esbuild options for src/runtime with the light tfjs stand-in; `outfile` and `minify` vary.
 * `browser`: the build bundlers pick for pages (package.json's "browser" condition), which also
 * registers tfjs-core's chained ops (see packages/runtime/src/tfjs.browser.js).
 */
export function runtimeBuildOptions(root, { outFile, minify, browser = true }) {
  return {
    entryPoints: [join(root, 'src', 'runtime', 'index.ts')],
    outfile: outFile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: { '@tensorflow/tfjs': join(root, 'packages', 'runtime', 'src', browser ? 'tfjs.browser.js' : 'tfjs.node.js') },
    plugins: [tfjsExternals(browser)],
    minify,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  };
}

/** One esbuild run; fails on any warning or Node built-in. */
async function build(esbuild, root, options) {
  const result = await esbuild.build(runtimeBuildOptions(root, options));
  // A tf.<name> that packages/runtime/src/tfjs.js does not export would be undefined at run time.
  if (result.warnings.length) {
    const text = (await esbuild.formatMessages(result.warnings, { kind: 'warning' })).join('\n');
    throw new Error(`bundle-runtime: esbuild warnings (add a missing tfjs name to packages/runtime/src/tfjs.js):\n${text}`);
  }
  const inputs = Object.keys(result.metafile.inputs);
  const nodeBuiltins = inputs.filter((f) => f.startsWith('node:'));
  if (nodeBuiltins.length) throw new Error(`bundle-runtime: Node built-ins in the browser bundle: ${nodeBuiltins.join(', ')}`);
  return inputs;
}

/**
 * Builds packages/runtime/dist: index.js (Node) and browser.js (pages). With `outFile`, bundles
 * the browser build there alone, minified by default: the size the runtime adds to a game next
 * to tfjs. Returns the (browser) bundle's path and size in bytes.
 */
export async function bundle(root, { outFile, minify } = {}) {
  const esbuild = await import('esbuild');
  const pkgDir = join(root, 'packages', 'runtime');
  if (outFile !== undefined) {
    await mkdir(dirname(outFile), { recursive: true });
    const inputs = await build(esbuild, root, { outFile, minify: minify ?? true });
    return { path: outFile, bytes: (await stat(outFile)).size, inputs };
  }
  await rm(join(pkgDir, 'dist'), { recursive: true, force: true });
  const file = join(pkgDir, 'dist', 'browser.js');
  const inputs = await build(esbuild, root, { outFile: file, minify: minify ?? false });
  await build(esbuild, root, { outFile: join(pkgDir, 'dist', 'index.js'), minify: minify ?? false, browser: false });
  await writePackageExtras(root, pkgDir);
  return { path: file, bytes: (await stat(file)).size, inputs };
}

/** Declarations, licence and the version check of packages/runtime. */
async function writePackageExtras(root, pkgDir) {
  const rootPkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.version !== rootPkg.version) throw new Error(`bundle-runtime: packages/runtime is version ${pkg.version}, npcforge ${rootPkg.version}; fix: give both the same version`);
  const tfjs = rootPkg.dependencies['@tensorflow/tfjs'];
  for (const [name, range] of Object.entries(pkg.dependencies)) {
    if (name.startsWith('@tensorflow/') && range !== tfjs) throw new Error(`bundle-runtime: packages/runtime depends on ${name}@${range}, npcforge on @tensorflow/tfjs@${tfjs}; fix: use the same tfjs version`);
  }
  await copyDeclarations(join(root, 'dist', 'src'), join(pkgDir, 'dist', 'types'), 'runtime/index.d.ts');
  await copyFile(join(pkgDir, 'src', 'tfjs.d.ts'), join(pkgDir, 'dist', 'types', 'tfjs.d.ts'));
  await writeFile(join(pkgDir, 'dist', 'index.d.ts'), "export * from './types/runtime/index.js';\n");
  await copyFile(join(root, 'LICENSE'), join(pkgDir, 'LICENSE'));
}

const IMPORT_RE = /(from\s+|import\s*\(\s*|import\s+)(['"])([^'"]+)\2/g;

/**
 * Copies `entry` and every declaration it imports (relatively, transitively) from `fromDir` (tsc's
 * output for src/) to `toDir`, keeping the folder layout, and points '@tensorflow/tfjs' at
 * types/tfjs.d.ts. Any other bare import would be a dependency the package does not declare.
 */
async function copyDeclarations(fromDir, toDir, entry) {
  const seen = new Set();
  const queue = [entry];
  while (queue.length) {
    const rel = queue.pop();
    if (seen.has(rel)) continue;
    seen.add(rel);
    let text = await readFile(join(fromDir, rel), 'utf8');
    text = text.replace(IMPORT_RE, (m, head, q, spec) => {
      if (spec.startsWith('.')) {
        queue.push(posix.join(posix.dirname(rel), spec.replace(/\.js$/, '.d.ts')));
        return m;
      }
      if (spec === '@tensorflow/tfjs') {
        const to = posix.relative(posix.dirname(rel), 'tfjs.js');
        return `${head}${q}${to.startsWith('.') ? to : `./${to}`}${q}`;
      }
      if (spec.startsWith('node:')) return m; // type-only use in the Node file reader; @types/node is the user's
      throw new Error(`bundle-runtime: ${rel} imports ${spec}, which @npcforge/runtime does not depend on`);
    });
    await mkdir(dirname(join(toDir, rel)), { recursive: true });
    await writeFile(join(toDir, rel), text);
  }
  return [...seen].map((r) => relative(toDir, join(toDir, r)));
}
