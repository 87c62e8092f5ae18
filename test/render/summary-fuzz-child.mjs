/**
 * Child process of the viewer's fuzz tests: reads every path listed in argv[3] (JSON) with the
 * compiled server-side reader named by argv[2] (`episode`: the episode list's summary of a file;
 * `supervised`: the supervised page of a run folder), under the memory cap the parent gives node,
 * and prints one JSON line per path: `{ path, ok, problem?, threw? }`. Plain JS on dist/ so the cap
 * applies to the reader alone.
 */
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const { EpisodeSummaries } = await import(new URL('dist/src/render/episode-summaries.js', root).href);
const { readSupervisedView } = await import(new URL('dist/src/render/supervised-files.js', root).href);

const summaries = new EpisodeSummaries();
const read = async (path) => {
  if (process.argv[2] === 'episode') return summaries.get(path);
  const v = await readSupervisedView(path, path);
  if (v === null) return { ok: false, problem: 'no run.json' };
  if ('error' in v) return { ok: false, problem: v.error };
  return v.problems.length ? { ok: false, problem: v.problems.join('; ') } : { ok: true };
};
for (const path of JSON.parse(readFileSync(process.argv[3], 'utf8'))) {
  try {
    const r = await read(path);
    process.stdout.write(`${JSON.stringify({ path, ok: r.ok, ...(r.ok ? {} : { problem: r.problem }) })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ path, ok: false, threw: err?.constructor?.name ?? typeof err })}\n`);
  }
}
