// `npm run smoke`: every command's --help, then every bad input a user can type (issue 14 and the
// CLI tests). A bad input must end in at most 2 lines on stdout+stderr, no stack trace, and a
// non-zero exit code (2 for usage errors, 1 where allowed). Prints a table; exits 1 on any FAIL.
//
// Fixtures (a tiny image run, config files, data folders, a broken bundle, a busy port) are made in
// a temp folder, which is also the working directory of every case (runs/ lands there, not here).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIfStale } from './build-if-stale.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'npcforge.js');
/** A case that has not ended by then has hung (a FIFO, a server that should have refused to start). */
const CASE_TIMEOUT_MS = 60_000;
/** Address-space cap for cases that read a file before any tfjs backend starts (a /dev/zero must not eat the machine). */
const CAPPED_AS_BYTES = 3_000_000_000;
const STACK_LINE = /^\s+at /m;

buildIfStale(root);
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-smoke-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI once; resolves with the exit code (null on timeout), stdout and stderr. */
function runCli(argv, { capMemory = false } = {}) {
  const hasPrlimit = capMemory && spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
  const [cmd, args] = hasPrlimit ? ['prlimit', [`--as=${CAPPED_AS_BYTES}`, process.execPath, bin, ...argv]] : [process.execPath, [bin, ...argv]];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', NPCFORGE_DEBUG: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CASE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? null : (code ?? (signal ? `signal ${signal}` : null)), out, err, timedOut });
    });
  });
}

// ---- fixtures -------------------------------------------------------------------------------

const f = (...p) => join(tmp, ...p);
mkdirSync(f('not-a-run'));
writeFileSync(f('notes.txt'), 'shopping list\n');
writeFileSync(f('junk.npcep'), 'hello');
// Config files: each stays an error once the BOM is accepted (the BOM must not be the complaint).
writeFileSync(f('bom.json'), '\uFEFF{"learningRate": -1}');
writeFileSync(f('nested-unknown.json'), JSON.stringify({ network: { kind: 'mlp', hidden: [8], evil: 1 } }));
writeFileSync(f('bad-sweep.json'), JSON.stringify({ game: 'catch', seeds: [1, 1] }));
writeFileSync(f('ok-sweep.json'), JSON.stringify({ game: 'catch', steps: 100, seeds: [0] }));
// learningRate lives in optimizer (a top-level one is an unknown key, which would not test the range).
writeFileSync(f('lr-huge.json'), JSON.stringify({ optimizer: { learningRate: 1e30 } }));
writeFileSync(f('not-json.json'), '{\n"steps": x\n}');
// A bundle folder whose files are broken.
mkdirSync(f('broken-bundle'));
writeFileSync(f('broken-bundle', 'policy.json'), '{"format": "npcforge-policy", "version": 1');
writeFileSync(f('broken-bundle', 'model.json'), 'not json');
// A sound bundle exported for another game (catch) than the one played (pong).
cpSync(join(root, 'examples', 'pong', 'npc'), f('catch-bundle'), { recursive: true });
{
  const policy = JSON.parse(readFileSync(f('catch-bundle', 'policy.json'), 'utf8'));
  policy.game = { id: 'catch', options: {} };
  writeFileSync(f('catch-bundle', 'policy.json'), JSON.stringify(policy));
}
// Data folders with something that is not a sample file.
function dataFolder(name, ext, body) {
  for (const c of ['a', 'b']) {
    mkdirSync(f(name, 'train', c), { recursive: true });
    writeFileSync(f(name, 'train', c, `ok${ext}`), body);
  }
  return f(name);
}
const { default: sharp } = await import('sharp');
const PNG_1X1 = await sharp(Buffer.from([128]), { raw: { width: 1, height: 1, channels: 1 } }).png().toBuffer();
mkdirSync(join(dataFolder('text-dir', '.txt', 'fine'), 'train', 'a', 'x.txt'));
symlinkSync('/dev/zero', join(dataFolder('text-zero', '.txt', 'fine'), 'train', 'a', 'zero.txt'));
const fifoData = dataFolder('text-fifo', '.txt', 'fine');
const hasFifo = spawnSync('mkfifo', [join(fifoData, 'train', 'a', 'pipe.txt')]).status === 0;
writeFileSync(join(dataFolder('image-broken', '.png', PNG_1X1), 'train', 'b', 'broken.png'), 'not a png');
// --import modules (they import the package root, as a user's module does: npcforge is "installed" by a symlink).
mkdirSync(f('node_modules'));
symlinkSync(root, f('node_modules', 'npcforge'), 'dir');
writeFileSync(f('package.json'), JSON.stringify({ name: 'smoke-project', version: '9.9.9', type: 'module', private: true }));
writeFileSync(f('throws.mjs'), "throw new Error('boom');\n");
writeFileSync(f('empty.mjs'), 'export const nothing = 1;\n');
writeFileSync(f('twice.mjs'), "import { register } from 'npcforge';\nregister('twin', () => null);\nregister('twin', () => null);\n");
writeFileSync(f('catch-again.mjs'), "import { register } from 'npcforge';\nregister('catch', () => null);\n");
// A run folder whose recorded module is gone.
mkdirSync(f('run-lost-module'));
writeFileSync(f('run-lost-module', 'config.json'), JSON.stringify({ format: 'npcforge-run', version: 1, game: 'lost', imports: [{ spec: './lost.mjs', url: pathToFileURL(f('lost.mjs')).href }] }));
// A tiny image run for predict (one epoch on two 1x1 images: a few seconds).
const imageData = dataFolder('image-ok', '.png', PNG_1X1);
const fit = await runCli(['fit', 'image', '--data', imageData, '--epochs', '1', '--val', '0', '--batch-size', '2', '--quiet', '--out', f('image-run')]);
const imageRun = fit.code === 0 ? f('image-run') : null;
// A busy port: taken by this process for the whole run.
const busy = createServer();
await new Promise((r) => busy.listen(0, '127.0.0.1', r));
const busyPort = String(busy.address().port);

// ---- cases ----------------------------------------------------------------------------------

/** A bad input: argv, the exit codes allowed, and optionally a pattern the output must match. */
const USAGE = [2];
const FAILURE = [1, 2];
const badInputs = [
  // commander's own errors
  { argv: [], codes: USAGE },
  { argv: ['nosuch'], codes: USAGE },
  { argv: ['trian'], codes: USAGE },
  { argv: ['--bogus'], codes: USAGE },
  { argv: ['games', '--bogus'], codes: USAGE },
  { argv: ['games', 'extra'], codes: USAGE },
  { argv: ['replay'], codes: USAGE },
  { argv: ['replay', 'nosuch'], codes: USAGE },
  { argv: ['stats'], codes: USAGE },
  { argv: ['stats', 'catch'], codes: USAGE },
  { argv: ['stats', 'catch', '--policy'], codes: USAGE },
  { argv: ['export'], codes: USAGE },
  { argv: ['predict', 'x'], codes: USAGE },
  { argv: ['fit', 'text'], codes: USAGE },
  { argv: ['data', 'mnist'], codes: USAGE },
  // stats / record
  { argv: ['stats', 'nosuchgame', '--policy', 'random', '--episodes', '1'], codes: USAGE },
  { argv: ['stats', 'catch', '--policy', 'bogus', '--episodes', '1'], codes: USAGE },
  { argv: ['stats', 'catch', '--policy', 'random', '--episodes', '0'], codes: USAGE },
  { argv: ['stats', 'catch', '--policy', 'fixed:jump', '--episodes', '1'], codes: USAGE },
  { argv: ['record', 'nosuchgame'], codes: USAGE },
  { argv: ['record', 'catch', '--policy', 'fixed:jump', '--out', f('rec')], codes: USAGE },
  { argv: ['record', 'catch', '--policy', f('not-a-run'), '--out', f('rec')], codes: USAGE },
  { argv: ['record', 'catch', '--episodes', '0', '--out', f('rec')], codes: USAGE },
  { argv: ['record', 'catch', '--checkpoint', '5', '--out', f('rec')], codes: USAGE },
  { argv: ['record', 'pendulum', '--policy', 'fixed:0', '--out', f('rec')], codes: USAGE, match: /without Discrete actions/ },
  // replay verify
  { argv: ['replay', 'verify', '/nonexistent.npcep'], codes: FAILURE },
  { argv: ['replay', 'verify', tmp], codes: FAILURE },
  { argv: ['replay', 'verify', f('junk.npcep')], codes: FAILURE },
  // train
  // --import: a module that throws, registers nothing, registers an id twice; an unknown id; a run whose module is gone.
  { argv: ['train', 'mygame', '--import', './throws.mjs'], codes: USAGE, match: /"\.\/throws\.mjs" to import cleanly, received an error on import: Error: boom/ },
  { argv: ['stats', 'mygame', '--import', './empty.mjs', '--policy', 'random', '--episodes', '1'], codes: USAGE, match: /registered no game/ },
  { argv: ['record', 'twin', '--import', './twice.mjs', '--out', f('rec')], codes: USAGE, match: /"twin" registered by "\.\/twice\.mjs" itself/ },
  { argv: ['play', 'catch', '--import', './catch-again.mjs'], codes: USAGE, match: /"catch" registered by npcforge \(bundled game\) and again by "\.\/catch-again\.mjs"/ },
  { argv: ['view', '--import', './nowhere.mjs'], codes: USAGE, match: /not found from/ },
  { argv: ['replay', 'verify', f('junk.npcep'), '--import', 'no-such-package'], codes: USAGE, match: /not found from/ },
  { argv: ['eval', f('run-lost-module')], codes: USAGE, match: /"\.\/lost\.mjs" recorded by run .*no longer exists/ },
  { argv: ['export', f('run-lost-module')], codes: USAGE, match: /no longer exists/ },
  { argv: ['train'], codes: USAGE },
  { argv: ['train', 'nosuchgame'], codes: USAGE },
  { argv: ['train', 'catch', '--steps', '-1'], codes: USAGE },
  { argv: ['train', 'catch', '--steps', 'abc'], codes: USAGE },
  { argv: ['train', 'catch', '--agent', 'nosuch', '--steps', '200'], codes: USAGE },
  { argv: ['train', 'pendulum', '--agent', 'dqn', '--steps', '200'], codes: USAGE, match: /Box action space/ },
  { argv: ['train', 'catch', '--config', '/dev/zero', '--steps', '200'], codes: USAGE, capMemory: true },
  { argv: ['train', 'catch', '--config', f('nowhere.json'), '--steps', '200'], codes: USAGE },
  { argv: ['train', 'catch', '--config', f('not-json.json'), '--steps', '200'], codes: USAGE },
  { argv: ['train', 'catch', '--config', f('bom.json'), '--steps', '200'], codes: USAGE, match: /learningRate/ },
  { argv: ['train', 'catch', '--config', f('nested-unknown.json'), '--steps', '200'], codes: USAGE, match: /network\.evil/ },
  { argv: ['train', 'catch', '--config', f('lr-huge.json'), '--steps', '200'], codes: USAGE, match: /optimizer\.learningRate = 1e\+30/ },
  { argv: ['train', '--resume', f('not-a-run')], codes: USAGE },
  { argv: ['train', '--resume', f('nowhere')], codes: USAGE },
  { argv: ['train', '--resume', f('not-a-run'), '--checkpoint', 'x'], codes: USAGE },
  // eval / export
  { argv: ['eval', f('not-a-run')], codes: USAGE },
  { argv: ['eval', f('nowhere')], codes: USAGE },
  { argv: ['eval', f('not-a-run'), '--episodes', '0'], codes: USAGE },
  { argv: ['export', f('not-a-run')], codes: USAGE },
  { argv: ['export', f('not-a-run'), '--checkpoint', 'latest'], codes: USAGE },
  // supervised
  { argv: ['fit', 'video', '--data', f('text-dir')], codes: USAGE },
  { argv: ['fit', 'text', '--data', f('nowhere')], codes: USAGE },
  { argv: ['fit', 'text', '--data', f('text-dir'), '--quiet'], codes: USAGE },
  { argv: ['fit', 'text', '--data', f('text-zero'), '--quiet'], codes: USAGE, capMemory: true },
  ...(hasFifo ? [{ argv: ['fit', 'text', '--data', fifoData, '--quiet'], codes: USAGE, capMemory: true }] : []),
  { argv: ['fit', 'image', '--data', f('image-broken'), '--quiet'], codes: USAGE },
  { argv: ['fit', 'image', '--data', imageData, '--epochs', '0'], codes: USAGE },
  { argv: ['data', 'nosuch', '--out', f('data-out')], codes: USAGE },
  { argv: ['evaluate', f('not-a-run')], codes: USAGE },
  { argv: ['predict', f('not-a-run'), 'hello'], codes: USAGE },
  ...(imageRun
    ? [
        { argv: ['predict', imageRun, f('notes.txt')], codes: USAGE, match: /expected an image file/ },
        { argv: ['predict', imageRun, f('missing.png')], codes: USAGE },
        { argv: ['predict', imageRun, tmp], codes: USAGE },
      ]
    : []),
  // sweeps and workers
  { argv: ['sweep'], codes: USAGE },
  { argv: ['sweep', f('nowhere.json')], codes: USAGE },
  { argv: ['sweep', f('bad-sweep.json')], codes: USAGE, match: /seeds lists a seed twice/ },
  { argv: ['sweep', f('ok-sweep.json'), '--queue', 'http://x'], codes: USAGE },
  { argv: ['sweep', f('ok-sweep.json'), '--queue', 'redis://127.0.0.1:1/q'], codes: FAILURE, match: /reachable Redis/ },
  { argv: ['sweep', 'status'], codes: USAGE },
  // actors and a learner
  { argv: ['actor'], codes: USAGE },
  { argv: ['actor', 'http://x/y'], codes: USAGE },
  { argv: ['actor', 'redis://127.0.0.1:1/run', '--envs', '0'], codes: USAGE },
  { argv: ['actor', 'redis://127.0.0.1:1/run'], codes: FAILURE, match: /reachable Redis/ },
  { argv: ['train', 'catch', '--distributed', 'redis://127.0.0.1:1/run'], codes: FAILURE, match: /reachable Redis/ },
  { argv: ['sweep', 'status', 'x'], codes: USAGE, match: /--queue/ },
  { argv: ['worker', 'redis://127.0.0.1:1'], codes: FAILURE, match: /reachable Redis/ },
  { argv: ['worker', 'redis://127.0.0.1:6379/a:b'], codes: USAGE },
  // servers
  { argv: ['view', tmp, '--port', busyPort], codes: FAILURE, match: /port/ },
  { argv: ['view', tmp, '--port', '99999'], codes: USAGE },
  { argv: ['play', 'pong', '--npc', f('broken-bundle'), '--port', '0'], codes: FAILURE },
  { argv: ['play', 'pong', '--npc', f('nowhere')], codes: FAILURE },
  { argv: ['play', 'pong', '--npc', f('catch-bundle'), '--port', '0'], codes: USAGE, match: /a policy for game "pong", received a policy for "catch"; fix: load the bundle exported from a run of this game/ },
];

/** `--help` of every command and subcommand, found in the program itself so none is forgotten. */
const { buildProgram } = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
const helpCases = [];
(function walk(cmd, path) {
  helpCases.push({ argv: [...path, '--help'] });
  for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
})(buildProgram(), []);

function judgeHelp(r) {
  if (r.timedOut) return 'timed out';
  if (r.code !== 0) return `exit ${r.code}, expected 0`;
  if (STACK_LINE.test(r.out + r.err)) return 'stack trace';
  if (!/Usage: npcforge/.test(r.out)) return 'no usage text on stdout';
  return null;
}

function judgeBad(c, r) {
  const text = r.out + r.err;
  if (r.timedOut) return `no exit within ${CASE_TIMEOUT_MS / 1000} s`;
  if (STACK_LINE.test(text)) return 'stack trace';
  const lines = text.split('\n').filter((l) => l.length > 0).length;
  if (lines > 2) return `${lines} lines of output (at most 2)`;
  if (r.code === 0) return 'exit 0';
  if (!c.codes.includes(r.code)) return `exit ${r.code}, expected ${c.codes.join(' or ')}`;
  if (c.match && !c.match.test(text)) return `output does not match ${c.match}`;
  return null;
}

/** Runs cases two at a time (the CI machine has 2 cores; most cases wait on node start-up). */
async function runAll(cases, judge) {
  const results = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const r = await runCli(cases[i].argv, { capMemory: cases[i].capMemory });
      results[i] = { c: cases[i], r, reason: judge(cases[i], r) };
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

const shown = (argv) => argv.map((a) => (a.startsWith(tmp) ? `<tmp>${a.slice(tmp.length)}` : a === '' ? "''" : a)).join(' ');
const results = [...(await runAll(helpCases, (_c, r) => judgeHelp(r))), ...(await runAll(badInputs, judgeBad))];
busy.close();

let failed = 0;
const width = Math.min(90, Math.max(...results.map(({ c }) => shown(c.argv).length + 9)));
for (const { c, r, reason } of results) {
  if (reason) failed++;
  const name = `npcforge ${shown(c.argv)}`;
  const status = reason ? 'FAIL' : 'ok';
  const detail = reason ? `  ${reason}: ${(r.err || r.out).split('\n').find((l) => l.trim()) ?? ''}`.slice(0, 240) : '';
  process.stdout.write(`${name.padEnd(width)}  ${status}${detail}\n`);
}
if (!imageRun) {
  failed++;
  process.stdout.write(`fixture: the tiny image run for predict could not be trained (exit ${fit.code}): ${fit.err.split('\n')[0]}\n`);
}
process.stdout.write(`smoke: ${results.length - failed} ok, ${failed} failed (${helpCases.length} --help, ${badInputs.length} bad inputs)\n`);
process.exitCode = failed > 0 ? 1 : 0;
