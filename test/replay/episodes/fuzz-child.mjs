/**
 * Child process of fuzz-memory.test.ts: reads every hostile input listed in argv[2] (JSON) with the
 * compiled reader and loader, under the memory cap the parent gives node, and prints one line per
 * input: `FUZZ {"name", "error", "named", "oneLine", "ms"}`, then `FUZZ-DONE {"maxRssMb"}`.
 * Plain JS on dist/ so that the cap applies to the reader alone, not to vitest.
 */
import { readFileSync } from 'node:fs';

const root = new URL('../../../', import.meta.url);
const { readEpisodeFile } = await import(new URL('dist/src/replay/episodes/read-file.js', root).href);
const { verifyEpisode } = await import(new URL('dist/src/replay/episodes/verify.js', root).href);
const { loadPolicy, loadValueModel } = await import(new URL('dist/src/runtime/load-policy.js', root).href);
const { NpcforgeError } = await import(new URL('dist/src/errors.js', root).href);
await import(new URL('dist/games/index.js', root).href);

const inputs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
for (const input of inputs) {
  const t0 = performance.now();
  let error = null;
  let named = true;
  let oneLine = true;
  try {
    if (input.kind === 'episode') {
      const ep = readEpisodeFile(input.path);
      // Frames inflate lazily: decode them all, as the viewer would when played through.
      for (let k = 0; k < ep.frameCount; k++) ep.frame(k);
      if (ep.observations) for (let k = 0; k < ep.frameCount; k++) ep.observation(k);
      if (input.verify) verifyEpisode(ep);
    } else {
      const policy = await loadPolicy(input.path);
      try {
        // The critic, when policy.json names one (the viewer's value saliency reads it).
        (await loadValueModel(input.path, policy.file))?.dispose();
      } finally {
        policy.dispose();
      }
    }
  } catch (err) {
    error = err?.constructor?.name ?? typeof err;
    named = err instanceof NpcforgeError;
    oneLine = typeof err?.message === 'string' && !err.message.includes('\n') && !/TOP-SECRET|root:/.test(err.message);
  }
  process.stdout.write(`FUZZ ${JSON.stringify({ name: input.name, error, named, oneLine, ms: Math.round(performance.now() - t0) })}\n`);
}
process.stdout.write(`FUZZ-DONE ${JSON.stringify({ maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
