// One browser page bundle, as every scripts/bundle-<page>.mjs builds it: ESM for es2022, minified
// by default, with esbuild's metafile. platform 'browser' makes esbuild fail on any Node built-in
// reaching the bundle; the check below names them if one gets in through a browser field.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Bundles `entry` into `outfile`; returns esbuild's metafile. `name` prefixes errors. */
export async function bundlePage(name, entry, outfile, { minify = true } = {}) {
  const esbuild = await import('esbuild');
  await mkdir(dirname(outfile), { recursive: true });
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  const builtins = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('node:'));
  if (builtins.length) throw new Error(`${name}: Node built-ins in the browser bundle: ${builtins.join(', ')}`);
  return result.metafile;
}
