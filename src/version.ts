/**
 * npcforge's own version, read from its own package.json. `process.env.npm_package_version` is the
 * version of whatever project ran `npm`/`npx`, not ours, so it must not be used for this.
 */
import { readFileSync } from 'node:fs';

let cachedPkg: Record<string, unknown> | undefined;

/** npcforge's own package.json (found relative to this module, from src/ or dist/src/); `{}` if it cannot be read. */
export function npcforgePackageJson(): Record<string, unknown> {
  if (cachedPkg !== undefined) return cachedPkg;
  // src/version.ts sits one folder below the package root; dist/src/version.js two.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as Record<string, unknown>;
      if (pkg !== null && typeof pkg === 'object' && pkg.name === 'npcforge') return (cachedPkg = pkg);
    } catch {
      // Not this candidate (missing or not JSON): try the next one.
    }
  }
  return (cachedPkg = {});
}

/** The `version` field of npcforge's package.json. */
export function npcforgeVersion(): string {
  const v = npcforgePackageJson().version;
  return typeof v === 'string' ? v : '0.0.0-unknown';
}
