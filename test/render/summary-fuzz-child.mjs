/**
 * Child process of episode-sources.test.ts: summarises every file listed in argv[2] (JSON) with the
 * compiled server-side reader, under the memory cap the parent gives node, and prints one JSON line
 * per file: `{ path, ok, problem?, threw? }`. Plain JS on dist/ so the cap applies to the reader alone.
 */
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const { EpisodeSummaries } = await import(new URL('dist/src/render/episode-summaries.js', root).href);

const summaries = new EpisodeSummaries();
for (const path of JSON.parse(readFileSync(process.argv[2], 'utf8'))) {
  try {
    const r = await summaries.get(path);
    process.stdout.write(`${JSON.stringify({ path, ok: r.ok, ...(r.ok ? {} : { problem: r.problem }) })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ path, ok: false, threw: err?.constructor?.name ?? typeof err })}\n`);
  }
}
