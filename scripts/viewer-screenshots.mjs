// `node scripts/viewer-screenshots.mjs [--work DIR] [--out docs] [--only prepare|shoot]`: the
// screenshots of docs/viewer.md and the README, taken from real trained runs in real Chromium.
//
// prepare: trains what the pictures show, in DIR (default tmp/screenshots; kept, so a second call
//   only shoots): PPO on MinAtar Breakout, seeds 0-2 (recorded evaluation episodes, curves for the
//   compare view), an export of seed 0 (the policy the saliency overlay runs), and a small
//   Fashion-MNIST CNN with its evaluation (the supervised page).
// shoot: serves DIR/runs with `npcforge view` and writes docs/viewer.png (the player),
//   viewer-compare.png, viewer-saliency.png and viewer-supervised.png.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIfStale } from './build-if-stale.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'npcforge.js');

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write('usage: node scripts/viewer-screenshots.mjs [--work DIR] [--out docs] [--only prepare|shoot]\n');
  process.exit(0);
}
const work = resolve(flag('work', join(root, 'tmp', 'screenshots')));
const outDir = resolve(flag('out', join(root, 'docs')));
const only = flag('only', '');
const runs = join(work, 'runs');
/** Env steps per Breakout run: long enough for a rising curve, short enough for a docs script. */
const STEPS = Number(flag('steps', '300000'));
const SEEDS = [0, 1, 2];

function npcforge(args, { cwd = work } = {}) {
  return new Promise((ok, fail) => {
    process.stderr.write(`screenshots: npcforge ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => (code === 0 ? ok() : fail(new Error(`npcforge ${args[0]} exited with ${code}`))));
  });
}

/** The Breakout run of a seed (`train --out` names it minatar-breakout__ppo__s<seed>__<time>), or null. */
function breakoutRun(seed) {
  const name = existsSync(runs) ? readdirSync(runs).find((n) => n.startsWith(`minatar-breakout__ppo__s${seed}__`)) : undefined;
  return name ? join(runs, name) : null;
}
const supervisedRun = join(runs, 'fashion-mnist-cnn');
/** The greedy episode of seed 0's final policy that the saliency shot shows. */
const SALIENCY_EPISODE = 'greedy-seed7';

/** Moves the one recorded episode into the run's episodes folder under a fixed name. */
function renameRecorded(run) {
  const file = readdirSync(join(work, 'recorded')).find((f) => f.endsWith('.npcep'));
  renameSync(join(work, 'recorded', file), join(run, 'episodes', SALIENCY_EPISODE + '.npcep'));
}

async function prepare() {
  mkdirSync(runs, { recursive: true });
  for (const seed of SEEDS) {
    const dir = breakoutRun(seed);
    // PPO stops at the first whole rollout past the budget (e.g. 300032): any checkpoint >= STEPS is done.
    const done = dir && existsSync(join(dir, 'checkpoints')) && readdirSync(join(dir, 'checkpoints')).some((n) => Number(n) >= STEPS);
    if (done) continue;
    if (dir) await npcforge(['train', '--resume', dir, '--steps', String(STEPS), '--no-progress']);
    else await npcforge(['train', 'minatar/breakout', '--agent', 'ppo', '--seed', String(seed), '--steps', String(STEPS), '--config', writeJson('breakout.json', { evalEvery: 25_000, evalEpisodes: 20 }), '--out', runs, '--no-progress']);
  }
  // The exported policy (with its critic) is what the saliency panel runs, on an episode that
  // stores the observations the policy read: record one greedy episode of the final policy.
  if (!existsSync(join(breakoutRun(0), 'policy', 'value.json'))) await npcforge(['export', breakoutRun(0), '--out', join(breakoutRun(0), 'policy')]);
  if (!existsSync(join(breakoutRun(0), 'episodes', SALIENCY_EPISODE + '.npcep'))) await npcforge(['record', 'minatar/breakout', '--policy', breakoutRun(0), '--episodes', '1', '--seed', '7', '--out', join(work, 'recorded')]).then(() => renameRecorded(breakoutRun(0)));
  if (!existsSync(join(work, 'fm', 'test'))) await npcforge(['data', 'fashion-mnist', '--out', join(work, 'fm'), '--limit-per-class', '300']);
  if (!existsSync(join(supervisedRun, 'evaluation.json'))) {
    if (!existsSync(join(supervisedRun, 'model', 'model.json'))) await npcforge(['fit', 'image', '--data', join(work, 'fm'), '--epochs', '6', '--out', supervisedRun, '--force', '--quiet']);
    await npcforge(['evaluate', supervisedRun]);
  }
}

function writeJson(name, value) {
  const p = join(work, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
}

async function shoot() {
  buildIfStale(root);
  const { startViewerServer } = await import(pathToFileURL(join(root, 'dist', 'src', 'render', 'server.js')).href);
  const { launchChromium } = await import(pathToFileURL(join(root, 'dist', 'bench', 'browser-page.js')).href);
  const server = await startViewerServer({ root: runs, port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const run0 = basename(breakoutRun(0));
    const shots = [
      // The player on the last evaluation of seed 0, at step 40, with its learning curve.
      { file: 'viewer.png', hash: `#${encodeURIComponent(run0)}/${encodeURIComponent(lastEpisode(breakoutRun(0)))}/40`, ready: () => window.npcforgeViewer?.status()?.step === 40 },
      // The supervised page: curves per epoch, confusion matrix, per-class table, misclassified images.
      // Gradient saliency of the action taken, over the frame, on the greedy episode.
      { file: 'viewer-saliency.png', hash: `#${encodeURIComponent(run0)}/${SALIENCY_EPISODE}/30/saliency-gradient-action`, ready: () => window.npcforgeViewer?.status()?.step === 30, after: (page) => page.evaluate(() => window.npcforgeViewer.saliency({ enabled: true, method: 'gradient', output: 'action', opacity: 0.55 })) },
      // Three seeds of one game/agent: each run smoothed, their mean and min-max band, the legend.
      {
        file: 'viewer-compare.png',
        hash: `#compare/eval_return/${SEEDS.map((seed) => encodeURIComponent(basename(breakoutRun(seed)))).join(',')}`,
        ready: () => window.npcforgeViewer?.curves?.()?.band === true,
        after: (page) => page.evaluate(() => document.getElementById('curve').scrollIntoView({ block: 'end' })),
      },
      { file: 'viewer-supervised.png', hash: `#${basename(supervisedRun)}`, ready: () => !!window.npcforgeViewer?.supervised?.()?.confusion },
    ];
    for (const s of shots) {
      await page.goto('about:blank');
      await page.goto(`${server.url}${s.hash}`);
      await page.waitForFunction(s.ready, undefined, { timeout: 60_000 });
      if (s.after) await s.after(page);
      await page.waitForTimeout(800);
      await page.screenshot({ path: join(outDir, s.file) });
      process.stderr.write(`screenshots: wrote ${join(outDir, s.file)}\n`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

/** The newest recorded evaluation episode of a run (by step). */
function lastEpisode(run) {
  const names = readdirSync(join(run, 'episodes')).filter((f) => f.endsWith('.npcep')).map((f) => f.slice(0, -6));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return names[names.length - 1];
}

if (only !== 'shoot') await prepare();
if (only !== 'prepare') await shoot();
