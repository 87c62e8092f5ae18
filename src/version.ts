/**
 * npcforge's own version, read from its own package.json. `process.env.npm_package_version` is the
 * version of whatever project ran `npm`/`npx`, not ours, so it must not be used for this.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The `version` field of npcforge's package.json (found relative to this module, from src/ or dist/src/). */
export function npcforgeVersion(): string {
  if (cached !== undefined) return cached;
  // src/version.ts sits one folder below the package root; dist/src/version.js two.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'npcforge' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // Not this candidate (missing or not JSON): try the next one.
    }
  }
  cached = '0.0.0-unknown';
  return cached;
}
