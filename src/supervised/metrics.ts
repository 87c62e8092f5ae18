/** Classification metrics: accuracy, per-class precision/recall/F1, confusion matrix. Pure math. */

/** Precision, recall and F1 of one class plus its number of true samples. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Everything `evaluate` reports. `confusion[t][p]` counts samples of true class t predicted as p. */
export interface ClassificationReport {
  accuracy: number;
  samples: number;
  classes: string[];
  per_class: Record<string, ClassMetrics>;
  confusion: number[][];
}

/** Builds the report from true and predicted class indices. */
export function classificationReport(classes: string[], truth: ArrayLike<number>, predicted: ArrayLike<number>): ClassificationReport {
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    confusion[t]![p]!++;
    if (t === p) correct++;
  }
  const perClass: Record<string, ClassMetrics> = {};
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    let predictedAsC = 0;
    let actualC = 0;
    for (let j = 0; j < k; j++) {
      predictedAsC += confusion[j]![c]!;
      actualC += confusion[c]![j]!;
    }
    // Undefined ratios (no predictions / no samples of the class) are reported as 0, as scikit-learn does.
    const precision = predictedAsC > 0 ? tp / predictedAsC : 0;
    const recall = actualC > 0 ? tp / actualC : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[classes[c]!] = { precision, recall, f1, support: actualC };
  }
  return { accuracy: truth.length > 0 ? correct / truth.length : 0, samples: truth.length, classes: [...classes], per_class: perClass, confusion };
}

/** Most misclassified examples `evaluate` keeps in evaluation.json (the viewer shows them). */
export const MAX_MISCLASSIFIED = 16;

/** One test sample the model got wrong, as evaluation.json stores it. */
export interface MisclassifiedExample {
  /** Position of the sample in the test split (the order `evaluate` read it). */
  index: number;
  true: string;
  predicted: string;
  /** Probability the model gave its prediction. */
  confidence: number;
  /** The sample file, relative to the test folder (image and speech samples). */
  file?: string;
  /** Text samples: the text, cut to MAX_MISCLASSIFIED_TEXT characters. */
  text?: string;
  /** Image samples: the pixels as the model saw them (after resizing), row-major uint8, base64. */
  image?: { width: number; height: number; channels: number; pixels: string };
}

/**
 * Indices of at most `max` misclassified samples, a few of every true class: classes take turns
 * (in class order), each giving its next mistake in test order, so one bad class does not fill
 * the list. Deterministic.
 */
export function pickMisclassified(truth: ArrayLike<number>, predicted: ArrayLike<number>, max = MAX_MISCLASSIFIED): number[] {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] === predicted[i]) continue;
    const list = byClass.get(truth[i]!) ?? [];
    list.push(i);
    byClass.set(truth[i]!, list);
  }
  const queues = [...byClass.keys()].sort((a, b) => a - b).map((c) => byClass.get(c)!);
  const out: number[] = [];
  for (let round = 0; out.length < max && queues.some((q) => q.length > round); round++) {
    for (const q of queues) if (round < q.length && out.length < max) out.push(q[round]!);
  }
  return out;
}

/** Index of the largest value in each row of a row-major [rows, cols] matrix. */
export function argmaxRows(values: ArrayLike<number>, cols: number): Int32Array {
  const rows = values.length / cols;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c]! > values[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Inverse-frequency class weights (`n / (k * count_c)`), as Keras' "balanced" mode. */
export function balancedClassWeights(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  return counts.map((c) => (c > 0 ? labels.length / (numClasses * c) : 0));
}

/** Human-readable table of a report (for the CLI). */
export function formatReport(report: ClassificationReport): string {
  const w = Math.max(8, ...report.classes.map((c) => c.length));
  const lines = [`accuracy ${(report.accuracy * 100).toFixed(2)}% on ${report.samples} samples`, `${'class'.padEnd(w)}  precision  recall  f1      support`];
  for (const c of report.classes) {
    const m = report.per_class[c]!;
    lines.push(`${c.padEnd(w)}  ${m.precision.toFixed(3).padStart(9)}  ${m.recall.toFixed(3).padStart(6)}  ${m.f1.toFixed(3)}   ${m.support}`);
  }
  lines.push('confusion (rows = true, cols = predicted):');
  for (let i = 0; i < report.classes.length; i++) lines.push(`${report.classes[i]!.padEnd(w)}  ${report.confusion[i]!.map((v) => String(v).padStart(4)).join(' ')}`);
  return lines.join('\n');
}
