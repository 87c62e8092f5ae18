// Build: TypeScript -> dist/ (library, CLI, games, benchmarks), then the browser bundles.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const t0 = Date.now();
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
// Browser bundles: every scripts/bundle-*.mjs exports `bundle(root)`. The runtime package goes
// first: pages such as examples/arena import @npcforge/runtime, which is its dist/.
const order = (f) => (f === 'bundle-runtime.mjs' ? '' : f);
for (const f of readdirSync(join(root, 'scripts')).filter((f) => /^bundle-.*\.mjs$/.test(f)).sort((a, b) => order(a).localeCompare(order(b)))) {
  const mod = await import(join(root, 'scripts', f));
  await mod.bundle(root);
}
if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('build: dist/src/cli/main.js missing');
console.log(`npcforge: built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
