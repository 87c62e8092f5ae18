/**
 * The viewer's page of a supervised run (`npcforge fit`, then `npcforge evaluate`): `run.json`
 * (task, classes, per-epoch history) and `evaluation.json` (accuracy, per-class metrics, confusion
 * matrix, misclassified examples), read bounded and checked field by field on the server, so the
 * page gets one clean object or one short line per file that could not be used. Both files are
 * untrusted: problems name the file and the limit, never its contents. Browser-safe (the page
 * imports the types); the file reading is in supervised-files.ts.
 */

/** Largest run.json / evaluation.json read (bytes); a real one is a few KB (evaluation.json with 32 inline images ~0.5 MB). */
export const MAX_SUPERVISED_FILE_BYTES = 8 * 1024 * 1024;
/** Most classes shown (the confusion matrix is classes x classes cells). */
export const MAX_VIEW_CLASSES = 256;
/** Most epochs shown. */
export const MAX_VIEW_EPOCHS = 100_000;
/** Most misclassified examples shown. */
export const MAX_VIEW_EXAMPLES = 64;
/** Longest quoted text of an example (characters). */
export const MAX_EXAMPLE_TEXT = 2000;
/** Largest inline image of an example (pixels per side). */
export const MAX_EXAMPLE_SIDE = 128;
const MAX_NAME = 200;

export interface EpochPoint {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
}

export interface ClassRow {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** One test sample the model got wrong. */
export interface MisclassifiedView {
  /** Position in the test split. */
  index: number;
  true: string;
  predicted: string;
  /** Probability the model gave its (wrong) prediction, or null. */
  confidence: number | null;
  /** Sample file relative to the test folder, or null. */
  file: string | null;
  /** Text samples: the text (cut to MAX_EXAMPLE_TEXT). */
  text: string | null;
  /** Image samples: the pixels as the model saw them, row-major uint8, base64. */
  image: { width: number; height: number; channels: 1 | 3; pixels: string } | null;
}

export interface SupervisedEvaluationView {
  accuracy: number;
  samples: number;
  /** `confusion[t][p]`: samples of true class t predicted as p (classes in `SupervisedView.classes` order). */
  confusion: number[][];
  perClass: ClassRow[];
  misclassified: MisclassifiedView[];
}

/** What `/api/runs/<run>/supervised` answers. */
export interface SupervisedView {
  task: string;
  model: string;
  classes: string[];
  trainSamples: number | null;
  validationSamples: number | null;
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  /** False while `fit` is still running or was interrupted. */
  complete: boolean | null;
  history: EpochPoint[];
  evaluation: SupervisedEvaluationView | null;
  /** One short line per file that could not be used (`evaluation.json: ...`); the rest is still shown. */
  problems: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const orNull = <T>(v: unknown, ok: (x: unknown) => x is T): T | null => (ok(v) ? v : null);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const shortName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME;

/** A problem line for a file: what was expected, without the file's contents. */
export class ViewProblem extends Error {}
const need = (cond: boolean, what: string): void => {
  if (!cond) throw new ViewProblem(what);
};

/** Checks a parsed run.json; throws ViewProblem naming the first bad field. */
export function checkRunJson(v: unknown): Omit<SupervisedView, 'evaluation' | 'problems'> {
  need(isObj(v), 'a JSON object');
  const r = v as Record<string, unknown>;
  need(r.format === 'npcforge-supervised-run', "format 'npcforge-supervised-run'");
  need(r.version === 1, 'version 1');
  need(shortName(r.task) && shortName(r.model), 'task and model names');
  need(Array.isArray(r.classes) && r.classes.length >= 1 && r.classes.length <= MAX_VIEW_CLASSES && r.classes.every(shortName), `1 to ${MAX_VIEW_CLASSES} class names`);
  need(Array.isArray(r.history) && r.history.length <= MAX_VIEW_EPOCHS, `a history of at most ${MAX_VIEW_EPOCHS} epochs`);
  const history: EpochPoint[] = [];
  for (const h of r.history as unknown[]) {
    need(isObj(h) && count(h.epoch) && finite(h.loss) && finite(h.accuracy), 'history entries with epoch, loss and accuracy');
    const e = h as Record<string, unknown>;
    history.push({ epoch: e.epoch as number, loss: e.loss as number, accuracy: e.accuracy as number, valLoss: orNull(e.valLoss, finite), valAccuracy: orNull(e.valAccuracy, finite) });
  }
  return {
    task: r.task as string,
    model: r.model as string,
    classes: [...(r.classes as string[])],
    trainSamples: orNull(r.trainSamples, count),
    validationSamples: orNull(r.validationSamples, count),
    bestEpoch: orNull(r.bestEpoch, count),
    stoppedEarly: orNull(r.stoppedEarly, isBool),
    complete: orNull(r.complete, isBool),
    history,
  };
}

/**
 * The epochs of a supervised run's metrics.jsonl (one JSON object per epoch, appended as each
 * ends): lines without a finite epoch, loss and accuracy, unreadable ones and a half-written last
 * line are skipped. It is ahead of run.json's history while `fit` runs (run.json is rewritten only
 * when the validation loss improves).
 */
export function epochsFromMetrics(text: string): EpochPoint[] {
  const out: EpochPoint[] = [];
  for (const line of text.split('\n')) {
    if (out.length >= MAX_VIEW_EPOCHS) break;
    // The lines fit writes are flat: anything nested is not one of them (and is not parsed).
    if (!line.trim() || line.length > 4096 || /[[{].*[[{]/.test(line)) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isObj(v) || !count(v.epoch) || !finite(v.loss) || !finite(v.accuracy)) continue;
    out.push({ epoch: v.epoch, loss: v.loss, accuracy: v.accuracy, valLoss: orNull(v.valLoss, finite), valAccuracy: orNull(v.valAccuracy, finite) });
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkExample(v: unknown, classes: string[]): MisclassifiedView {
  need(isObj(v), 'misclassified entries as objects');
  const m = v as Record<string, unknown>;
  need(count(m.index) && typeof m.true === 'string' && classes.includes(m.true) && typeof m.predicted === 'string' && classes.includes(m.predicted), 'misclassified entries with an index and a true and predicted class of the run');
  need(m.confidence === undefined || m.confidence === null || (finite(m.confidence) && m.confidence >= 0 && m.confidence <= 1), 'a confidence in [0, 1]');
  need(m.file === undefined || m.file === null || (typeof m.file === 'string' && m.file.length <= 1000), 'a file path of at most 1000 characters');
  need(m.text === undefined || m.text === null || typeof m.text === 'string', 'a text as a string');
  let image: MisclassifiedView['image'] = null;
  if (m.image !== undefined && m.image !== null) {
    need(isObj(m.image), 'an image as an object');
    const im = m.image as Record<string, unknown>;
    const side = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= MAX_EXAMPLE_SIDE;
    need(side(im.width) && side(im.height) && (im.channels === 1 || im.channels === 3), `an image of 1 to ${MAX_EXAMPLE_SIDE} pixels a side and 1 or 3 channels`);
    const bytes = (im.width as number) * (im.height as number) * (im.channels as number);
    need(typeof im.pixels === 'string' && im.pixels.length === 4 * Math.ceil(bytes / 3) && BASE64.test(im.pixels), 'image pixels as base64 of width x height x channels bytes');
    image = { width: im.width as number, height: im.height as number, channels: im.channels as 1 | 3, pixels: im.pixels as string };
  }
  const text = typeof m.text === 'string' ? (m.text.length > MAX_EXAMPLE_TEXT ? `${m.text.slice(0, MAX_EXAMPLE_TEXT)}...` : m.text) : null;
  return { index: m.index as number, true: m.true as string, predicted: m.predicted as string, confidence: finite(m.confidence) ? m.confidence : null, file: typeof m.file === 'string' ? m.file : null, text, image };
}

/** Checks a parsed evaluation.json against the run's classes; throws ViewProblem naming the first bad field. */
export function checkEvaluationJson(v: unknown, runClasses: string[]): SupervisedEvaluationView {
  need(isObj(v), 'a JSON object');
  const e = v as Record<string, unknown>;
  need(finite(e.accuracy) && e.accuracy >= 0 && e.accuracy <= 1 && count(e.samples), 'accuracy in [0, 1] and a sample count');
  const k = runClasses.length;
  need(Array.isArray(e.classes) && e.classes.length === k && e.classes.every((c, i) => c === runClasses[i]), "the run's classes, in the same order");
  need(Array.isArray(e.confusion) && e.confusion.length === k && e.confusion.every((row) => Array.isArray(row) && row.length === k && row.every(count)), `a ${k} x ${k} confusion matrix of counts`);
  need(isObj(e.per_class), 'per_class metrics');
  const per = e.per_class as Record<string, unknown>;
  const perClass = runClasses.map((name) => {
    const m = Object.prototype.hasOwnProperty.call(per, name) ? per[name] : undefined;
    need(isObj(m) && finite(m.precision) && finite(m.recall) && finite(m.f1) && count(m.support), 'precision, recall, f1 and support for every class');
    const c = m as Record<string, number>;
    return { name, precision: c.precision!, recall: c.recall!, f1: c.f1!, support: c.support! };
  });
  const raw = e.misclassified === undefined ? [] : e.misclassified;
  need(Array.isArray(raw), 'misclassified as a list');
  const misclassified = (raw as unknown[]).slice(0, MAX_VIEW_EXAMPLES).map((x) => checkExample(x, runClasses));
  return { accuracy: e.accuracy as number, samples: e.samples as number, confusion: (e.confusion as number[][]).map((r) => [...r]), perClass, misclassified };
}
