// `npm run bench -- <name> [...]`: builds dist/ if stale, then runs the compiled dispatcher.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIfStale } from './build-if-stale.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
buildIfStale(root);
const { main } = await import(pathToFileURL(join(root, 'dist', 'bench', 'run.js')).href);
process.exitCode = await main(process.argv.slice(2));
