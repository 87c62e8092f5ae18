#!/usr/bin/env node
// Entry point of the `npcforge` command; the compiled CLI lives in dist/ (built by `npm install`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A reader that goes away (`npcforge games | head -1`) is a normal end, not an error: stop quietly.
// Without a listener, the EPIPE of the next write surfaces as an unhandled 'error' with a stack.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
// Nothing can be reported on a closed stderr; keep going and let stdout and the exit code speak.
process.stderr.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
});

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('npcforge: the build is missing (dist/); run `npm run build` in the package folder\n');
  process.exit(1);
}
const { main, formatUnexpected } = await import(entry.href);
// Errors thrown outside main's await chain (an 'error' event, a stray rejection) still print one line.
const fatal = (err) => {
  process.stderr.write(formatUnexpected(err));
  process.exit(1);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
process.exitCode = await main(process.argv.slice(2));
