// Rebuilds dist/ (node scripts/build.mjs) when it is missing or older than any TypeScript source.
// Used by the vitest global setup (worker threads run compiled JS) and by `npm run bench`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const defaultRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestSource(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    // Build output inside a source folder (packages/runtime/dist) is not a source.
    if (entry.isDirectory()) newest = entry.name === 'dist' || entry.name === 'node_modules' ? newest : Math.max(newest, newestSource(p));
    else if (/\.(ts|mts|mjs|js|json|html|wat)$/.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds when dist/ is missing or stale; returns true when it built. */
export function buildIfStale(root = defaultRoot) {
  const stamp = join(root, 'dist', '.build-stamp');
  const sources = Math.max(
    ...['src', 'games', 'bench', 'examples', 'packages'].map((d) => newestSource(join(root, d))),
    ...['tsconfig.json', 'package.json', 'scripts/build-kernels.mjs'].map((f) => statSync(join(root, f)).mtimeMs),
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return false;
  const startedAt = Date.now();
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, encoding: 'utf8' });
  } catch (err) {
    // tsc reports type errors on stdout: show them, then fail (a broken build would run stale code).
    process.stderr.write(`npcforge: build failed\n${err.stdout ?? ''}${err.stderr ?? ''}\n`);
    throw new Error('npcforge: `node scripts/build.mjs` failed; fix the errors above');
  }
  // Stamp with the build's start time so sources edited during the build count as newer.
  writeFileSync(stamp, String(startedAt));
  utimesSync(stamp, new Date(startedAt), new Date(startedAt));
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (buildIfStale()) process.stderr.write('npcforge: dist/ rebuilt\n');
}
