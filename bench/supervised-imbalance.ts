/**
 * Class imbalance: MNIST with digits 5-9 cut to a tenth of digits 0-4 in the training folder (the
 * test folder stays balanced), trained with the default CNN three ways: as is, with
 * `--class-weights balanced`, and with `--oversample`. Prints each run's accuracy, the mean recall
 * of the majority and minority digits, the worst digit, and the per-digit recall averaged over
 * seeds.
 *
 * Usage: npm run bench -- supervised-imbalance [--seeds 3] [--per-class 120] [--minority 8] [--epochs 10] [--json out.json]
 */
import { readdir, rm, mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportImageDataset } from '../src/supervised/data/image-datasets.js';
import { SupervisedRun, fitTask } from '../src/supervised/run.js';
import { numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

const MODES = ['none', 'class-weights balanced', 'oversample'] as const;
type Mode = (typeof MODES)[number];
const MINORITY = ['5', '6', '7', '8', '9'];

interface Row {
  mode: Mode;
  seed: number;
  accuracy: number;
  majorityRecall: number;
  minorityRecall: number;
  worstRecall: number;
  recall: Record<string, number>;
  trainSamples: number;
  seconds: number;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function run(args: BenchArgs): Promise<unknown> {
  const seeds = numberFlag(args, 'seeds', 3);
  const perClass = numberFlag(args, 'per-class', 120);
  const minority = numberFlag(args, 'minority', 8);
  const epochs = numberFlag(args, 'epochs', 10);
  const root = await mkdtemp(join(tmpdir(), 'npcforge-imbalance-'));
  const rows: Row[] = [];
  try {
    const data = join(root, 'mnist');
    // A third of the digits held out (balanced); the training part of digits 5-9 is then cut to `minority`.
    await exportImageDataset('mnist', { out: data, seed: 0, limitPerClass: perClass, testCount: Math.round((perClass * 10) / 3) });
    for (const digit of MINORITY) {
      const dir = join(data, 'train', digit);
      const files = (await readdir(dir)).sort();
      await Promise.all(files.slice(minority).map((f) => rm(join(dir, f))));
    }
    for (let seed = 0; seed < seeds; seed++) {
      for (const mode of MODES) {
        const t0 = performance.now();
        const { runDir, run: info } = await fitTask({
          task: 'image',
          data,
          out: join(root, `${mode.replace(/\W+/g, '-')}-s${seed}`),
          seed,
          epochs,
          oversample: mode === 'oversample',
          fit: mode === 'class-weights balanced' ? { classWeights: 'balanced' } : {},
          progress: null,
        });
        const trained = await SupervisedRun.load(runDir);
        const report = await trained.evaluate();
        trained.dispose();
        const recall = Object.fromEntries(Object.entries(report.per_class).map(([c, m]) => [c, m.recall]));
        const minorityR = MINORITY.map((c) => recall[c]!);
        const majorityR = Object.keys(recall).filter((c) => !MINORITY.includes(c)).map((c) => recall[c]!);
        rows.push({ mode, seed, accuracy: report.accuracy, majorityRecall: mean(majorityR), minorityRecall: mean(minorityR), worstRecall: Math.min(...Object.values(recall)), recall, trainSamples: info.trainSamples, seconds: (performance.now() - t0) / 1000 });
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const pct = (v: number) => (v * 100).toFixed(1);
  printTable(['mode', 'seed', 'train samples', 'accuracy %', 'recall 0-4 %', 'recall 5-9 %', 'worst digit %', 's'], rows.map((r) => [r.mode, String(r.seed), String(r.trainSamples), pct(r.accuracy), pct(r.majorityRecall), pct(r.minorityRecall), pct(r.worstRecall), r.seconds.toFixed(0)]));
  const digits = Object.keys(rows[0]?.recall ?? {});
  process.stdout.write('\nper-digit recall %, mean over seeds\n');
  printTable(['mode', ...digits], MODES.map((m) => [m, ...digits.map((d) => pct(mean(rows.filter((r) => r.mode === m).map((r) => r.recall[d]!))))]));
  process.stdout.write(`load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}\n`);
  const result = { perClass, minority, epochs, rows, loadAverage: loadavg() };
  writeJson(args, 'supervised-imbalance', result);
  return result;
}

export const bench: Bench = { description: 'MNIST with digits 5-9 at a tenth: per-class recall as is, with --class-weights balanced, with --oversample (a few minutes)', run };
