/**
 * Server side of the supervised run page: reads `run.json`, `evaluation.json` and (for the epochs
 * of a fit still running) `metrics.jsonl` of a run folder bounded (regular files only, size checked
 * before reading, never blocking on a FIFO) and checks them with supervised-view.ts.
 */
import { join } from 'node:path';
import { openRegularFile, realInside } from './static-files.js';
import { MAX_SUPERVISED_FILE_BYTES, ViewProblem, checkEvaluationJson, checkRunJson, epochsFromMetrics, type SupervisedEvaluationView, type SupervisedView } from './supervised-view.js';

/** Deepest nesting of arrays and objects accepted (the real files nest 4 levels). */
const MAX_JSON_DEPTH = 32;

/**
 * Whether the arrays and objects of a JSON text nest at most `max` levels (strings skipped).
 * Checked before JSON.parse: a few MiB of `[[[[...` would otherwise become millions of nested
 * arrays, tens of times the file's size in memory.
 */
function nestingWithin(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

/** Reads a run file bounded: null when missing, else its text; a problem line otherwise. */
async function readTextFile(root: string, path: string, name: string): Promise<{ text: string } | { problem: string } | null> {
  let real: string;
  try {
    real = await realInside(root, path);
  } catch {
    return null;
  }
  let opened: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    opened = await openRegularFile(real);
  } catch {
    return { problem: `${name}: not a regular file` };
  }
  const { handle, size } = opened;
  try {
    if (size > MAX_SUPERVISED_FILE_BYTES) return { problem: `${name}: larger than ${MAX_SUPERVISED_FILE_BYTES} bytes (${size})` };
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await handle.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return { text: buf.subarray(0, off).toString('utf8') };
  } catch {
    return { problem: `${name}: unreadable` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Reads a run file bounded and parses it as JSON: null when missing, else its value; a problem line otherwise. */
async function readJsonFile(root: string, path: string, name: string): Promise<{ value: unknown } | { problem: string } | null> {
  const r = await readTextFile(root, path, name);
  if (r === null || 'problem' in r) return r;
  if (!nestingWithin(r.text, MAX_JSON_DEPTH)) return { problem: `${name}: nested deeper than ${MAX_JSON_DEPTH} levels` };
  try {
    return { value: JSON.parse(r.text) };
  } catch {
    // Half-written (fit and evaluate write in place) or not JSON.
    return { problem: `${name}: not valid JSON (${Buffer.byteLength(r.text)} bytes; half-written?)` };
  }
}

/**
 * The supervised page of the run folder `runDir` (real path inside `root`): null without
 * run.json (or one outside the root); an error line when run.json is unusable; a missing or bad
 * evaluation.json leaves `evaluation` null, with a problem line for a bad one.
 */
export async function readSupervisedView(root: string, runDir: string): Promise<SupervisedView | { error: string } | null> {
  const run = await readJsonFile(root, join(runDir, 'run.json'), 'run.json');
  if (run === null) return null;
  if ('problem' in run) return { error: run.problem };
  let base: ReturnType<typeof checkRunJson>;
  try {
    base = checkRunJson(run.value);
  } catch (err) {
    if (err instanceof ViewProblem) return { error: `run.json: expected ${err.message}` };
    throw err;
  }
  const problems: string[] = [];
  // metrics.jsonl gets every epoch as it ends; run.json only when the validation loss improved.
  const metrics = await readTextFile(root, join(runDir, 'metrics.jsonl'), 'metrics.jsonl');
  if (metrics !== null && 'text' in metrics) {
    const epochs = epochsFromMetrics(metrics.text);
    if (epochs.length > base.history.length) base = { ...base, history: epochs };
  }
  let evaluation: SupervisedEvaluationView | null = null;
  const ev = await readJsonFile(root, join(runDir, 'evaluation.json'), 'evaluation.json');
  if (ev !== null) {
    if ('problem' in ev) problems.push(ev.problem);
    else {
      try {
        evaluation = checkEvaluationJson(ev.value, base.classes);
      } catch (err) {
        if (!(err instanceof ViewProblem)) throw err;
        problems.push(`evaluation.json: expected ${err.message}`);
      }
    }
  }
  return { ...base, evaluation, problems };
}
