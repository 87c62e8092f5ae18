import type { Command } from 'commander';
import { CheckpointError, InvalidConfigError, NpcforgeError, SpaceMismatchError, UnsupportedVersionError, formatError, describe } from '../../errors.js';
import { canRender, drawFrame, renderUnavailable, type Env, type RgbFrame } from '../../envs/env.js';
import { make } from '../../envs/registry.js';
import { Box, Discrete } from '../../envs/spaces.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNpcPlayServer } from '../../export/play-server.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, requireGame } from '../imports.js';

/** Names of actions that mean "do nothing": the default in real-time play when no key is pressed. */
const IDLE_NAMES = ['noop', 'stay', 'none', 'idle'];

/** Key names understood by `actionForKey`: arrows, space, or a single character. */
export type KeyName = 'up' | 'down' | 'left' | 'right' | 'space' | string;

/** Arrow-key synonyms among action names (the first match wins). */
const ARROW_ACTIONS: Record<string, string[]> = {
  up: ['up', 'forward', 'jump'],
  down: ['down'],
  left: ['left'],
  right: ['right'],
  space: ['fire', 'noop', 'stay'],
};

/**
 * The action a key stands for: arrows map to actions named after them ('up' also to 'forward'),
 * any letter to the action whose name starts with it. Returns -1 for an unmapped key.
 */
export function actionForKey(actionNames: readonly string[], key: KeyName): number {
  const synonyms = ARROW_ACTIONS[key];
  if (synonyms) {
    for (const name of synonyms) {
      const i = actionNames.indexOf(name);
      if (i >= 0) return i;
    }
  }
  if (key.length === 1) {
    const c = key.toLowerCase();
    return actionNames.findIndex((n) => n[0]?.toLowerCase() === c);
  }
  return -1;
}

/** Decodes a raw terminal input chunk into key names (arrow escape sequences or characters). */
export function parseKeys(chunk: string): KeyName[] {
  const keys: KeyName[] = [];
  for (let i = 0; i < chunk.length; i++) {
    const ch = chunk[i]!;
    if (ch === '\u001b' && (chunk[i + 1] === '[' || chunk[i + 1] === 'O') && i + 2 < chunk.length) {
      const code = chunk[i + 2];
      const arrow = code === 'A' ? 'up' : code === 'B' ? 'down' : code === 'C' ? 'right' : code === 'D' ? 'left' : null;
      if (arrow) {
        keys.push(arrow);
        i += 2;
        continue;
      }
    }
    if (ch === '\u0003') keys.push('ctrl-c');
    else if (ch === ' ') keys.push('space');
    else keys.push(ch);
  }
  return keys;
}

/**
 * Text picture of an RGB frame sampled on a `cols` x `rows` grid (one sample per cell centre),
 * two cells per character row using the upper half block with 24-bit ANSI colours.
 */
export function frameToText(frame: RgbFrame, cols: number, rows: number): string {
  const sample = (cx: number, cy: number): [number, number, number] => {
    const x = Math.min(frame.width - 1, Math.floor(((cx + 0.5) * frame.width) / cols));
    const y = Math.min(frame.height - 1, Math.floor(((cy + 0.5) * frame.height) / rows));
    const i = (y * frame.width + x) * 3;
    return [frame.data[i]!, frame.data[i + 1]!, frame.data[i + 2]!];
  };
  const lines: string[] = [];
  for (let cy = 0; cy < rows; cy += 2) {
    let line = '';
    for (let cx = 0; cx < cols; cx++) {
      const [r, g, b] = sample(cx, cy);
      if (cy + 1 < rows) {
        const [r2, g2, b2] = sample(cx, cy + 1);
        line += `\u001b[38;2;${r};${g};${b}m\u001b[48;2;${r2};${g2};${b2}m\u2580`;
      } else {
        line += `\u001b[38;2;${r};${g};${b}m\u001b[49m\u2580`;
      }
    }
    lines.push(line + '\u001b[0m');
  }
  return lines.join('\n');
}

/** Sampling grid of a game: its observation grid when it has one, else the frame shrunk to fit. */
export function textGrid(env: Env<unknown, unknown>, frame: RgbFrame, maxCols = 80): { cols: number; rows: number } {
  const space = env.observationSpace;
  if (space instanceof Box && space.shape.length === 3 && space.shape[1]! <= maxCols) {
    const [h, w] = space.shape as [number, number];
    // Grid games read better with square cells: two characters per cell when they fit.
    const widen = w * 2 <= maxCols && w <= 20 ? 2 : 1;
    return { cols: w * widen, rows: h * (widen === 2 ? 2 : 1) };
  }
  const cols = Math.min(maxCols, frame.width);
  return { cols, rows: Math.max(2, Math.round((frame.height / frame.width) * cols)) };
}

/** Parses repeated `--set key=value` flags into game options (numbers and JSON literals decoded). */
export function parseGameOptions(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new InvalidConfigError(formatError('play --set', 'key=value', describe(p), 'pass e.g. --set botSkill=0.8'));
    const raw = p.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    out[p.slice(0, eq)] = value;
  }
  return out;
}

interface PlayFlags {
  seed?: string;
  fps?: string;
  stepMode?: string;
  set: string[];
  npc?: string;
  level?: string;
  port?: string;
  import: string[];
}

/**
 * Loads the bundle with the runtime the page uses (policy.json, model.json and weights checked,
 * the model built), so a broken bundle fails here in one line rather than in the browser tab.
 */
export async function checkBundle(game: string, bundle: string): Promise<void> {
  // Imported here: tfjs is loaded only by --npc, not by terminal play.
  const { loadPolicy } = await import('../../runtime/load-policy.js');
  let policy: { dispose(): void };
  try {
    policy = await loadPolicy(bundle, { game });
  } catch (err) {
    // A bundle of another game or format version is a bad --npc argument: exit 2 like a broken bundle.
    if (err instanceof SpaceMismatchError || err instanceof UnsupportedVersionError) throw new CheckpointError(err.message, { cause: err });
    if (err instanceof NpcforgeError) throw err;
    // tfjs's own message may quote the bundle's text: name the file instead.
    throw new CheckpointError(formatError('play --npc', `a policy bundle whose model.json tfjs can build`, `${describe(bundle)} (${err instanceof Error ? err.name : 'error'} while building the model)`, 'export the policy again with npcforge export'), { cause: err });
  }
  policy.dispose();
}

/**
 * Loads every level of a ladder folder with the runtime (as `checkBundle` does for one bundle);
 * returns the level `level` names (resolved from an alias), else the first.
 */
export async function checkLadder(game: string, dir: string, level: string | undefined): Promise<string> {
  const { loadLadder } = await import('../../runtime/load-ladder.js');
  const ladder = await loadLadder(dir, { game });
  const first = level === undefined ? ladder.levels[0]! : ladder.resolve(level);
  for (const name of ladder.levels) await checkBundle(game, join(dir, name));
  return first;
}

/** Serves the NPC page until Ctrl-C. */
async function playAgainstNpc(game: string, bundle: string, portFlag: string | undefined, level: string | undefined): Promise<void> {
  const port = Number(portFlag ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidConfigError(formatError('play', '--port to be an integer in [0, 65535]', describe(portFlag), 'pass e.g. --port 8080'));
  // The package root, from src/ (tests) or dist/src/ (installed CLI).
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const isLadder = existsSync(join(bundle, 'ladder.json'));
  if (level !== undefined && !isLadder) throw new InvalidConfigError(formatError('play --level', 'a ladder folder in --npc (written by npcforge export --ladder)', `${describe(bundle)}, a single policy bundle`, 'drop --level, or pass a ladder folder'));
  const first = isLadder ? await checkLadder(game, bundle, level) : undefined;
  if (!isLadder) await checkBundle(game, bundle);
  const s = await startNpcPlayServer({ game, bundleDir: bundle, root, port, ladderLevel: first });
  process.stdout.write(`npcforge: ${game} vs NPC ${bundle}${first ? ` (ladder, opening at ${first})` : ''} at ${s.url} (Ctrl-C stops)\n`);
  await new Promise<void>((ok) => process.once('SIGINT', () => ok()));
  await s.close();
}

/** `npcforge play <game>`: play a game in the terminal with the arrow keys or action letters. */
export function registerPlay(program: Command): void {
  program
    .command('play <game>')
    .description('play a game in the terminal (arrow keys or the first letter of an action; q quits)')
    .option('--seed <n>', 'seed of the first episode', '0')
    .option('--fps <n>', 'steps per second in real-time mode (try 25 for pong)', '10')
    .option('--step-mode <mode>', "'realtime' (the clock steps the game) or 'turn' (each key steps it); default: realtime when the game has a noop action")
    .option('--set <key=value>', 'game option, repeatable (e.g. --set botSkill=0.8)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--npc <bundle>', 'play in the browser against an exported policy (a bundle, or a ladder folder of levels): serves the game page and the bundle on 127.0.0.1 and prints the URL')
    .option('--level <name>', 'with a ladder folder in --npc (export --ladder): the level the page opens at (a name or alias; default the weakest); the page has a level picker')
    .option('--port <n>', 'port of the --npc server (default: any free port)')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (game: string, flags: PlayFlags) => {
      requireGame(game, await importModules(flags.import));
      if (flags.npc !== undefined) {
        await playAgainstNpc(game, flags.npc, flags.port, flags.level);
        return;
      }
      const seed = Number(flags.seed);
      const fps = Number(flags.fps);
      const errors: string[] = [];
      if (!Number.isInteger(seed) || seed < 0) errors.push(`--seed ${describe(flags.seed)} (a non-negative integer)`);
      if (!(fps > 0 && fps <= 60)) errors.push(`--fps ${describe(flags.fps)} (a number in (0, 60])`);
      if (flags.stepMode !== undefined && flags.stepMode !== 'realtime' && flags.stepMode !== 'turn') errors.push(`--step-mode ${describe(flags.stepMode)} ('realtime' | 'turn')`);
      if (errors.length) throw new InvalidConfigError(formatError('play', 'valid flags', errors.join('; '), 'fix the listed flags'));
      const env = make<unknown, number>(game, parseGameOptions(flags.set));
      if (!(env.actionSpace instanceof Discrete)) {
        env.close();
        throw new InvalidConfigError(formatError('play', 'a game with a single discrete action', env.actionSpace.type, 'use the vs-bot mode of a two-player game'));
      }
      if (!canRender(env as Env<unknown, unknown>)) {
        env.close();
        throw renderUnavailable(game);
      }
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        env.close();
        throw new InvalidConfigError(formatError('play', 'an interactive terminal', 'stdin or stdout that is not a TTY', 'run npcforge play in a terminal window'));
      }
      await playLoop(env, { seed, fps, stepMode: flags.stepMode as 'realtime' | 'turn' | undefined });
    });
}

async function playLoop(env: Env<unknown, number>, opts: { seed: number; fps: number; stepMode?: 'realtime' | 'turn' }): Promise<void> {
  const names = env.spec.actionNames;
  const idle = names.findIndex((n) => IDLE_NAMES.includes(n));
  const realtime = opts.stepMode ? opts.stepMode === 'realtime' : idle >= 0;
  const out = process.stdout;
  const help = names.map((n) => `${n[0]}=${n}`).join(' ') + '  arrows  q=quit';
  let episode = 0;
  let ret = 0;
  let steps = 0;
  let lastAction = idle >= 0 ? idle : 0;
  let pending = -1;
  let over = false;
  let status = '';
  env.reset({ seed: opts.seed });

  const draw = (): void => {
    const frame = drawFrame(env);
    const { cols, rows } = textGrid(env as Env<unknown, unknown>, frame);
    out.write('\u001b[H\u001b[2J' + frameToText(frame, cols, rows) + '\n');
    out.write(`${env.spec.id}  episode ${episode}  step ${steps}  return ${+ret.toFixed(3)}  ${status}\n${help}\n`);
    if (over) out.write('episode over: any key restarts, q quits\n');
  };
  const advance = (action: number): void => {
    const r = env.step(action);
    steps++;
    ret += r.reward;
    lastAction = action;
    status = r.terminated ? 'terminated' : r.truncated ? 'truncated' : '';
    if (r.terminated || r.truncated) over = true;
  };

  await new Promise<void>((resolve) => {
    const stdin = process.stdin;
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    out.write('\u001b[?25l');
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (timer) clearInterval(timer);
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      out.write('\u001b[0m\u001b[?25h\n');
      env.close();
      resolve();
    };
    const onData = (chunk: string): void => {
      for (const key of parseKeys(chunk)) {
        if (key === 'q' || key === 'ctrl-c') return finish();
        if (over) {
          env.reset();
          episode++;
          ret = 0;
          steps = 0;
          over = false;
          status = '';
          draw();
          continue;
        }
        const a = actionForKey(names, key);
        if (a < 0) continue;
        if (realtime) pending = a;
        else {
          advance(a);
          draw();
        }
      }
    };
    stdin.on('data', onData);
    draw();
    if (realtime) {
      timer = setInterval(() => {
        if (over) return;
        // Without a key press: the idle action if the game has one, else keep the last action.
        const a = pending >= 0 ? pending : idle >= 0 ? idle : lastAction;
        pending = -1;
        advance(a);
        draw();
      }, 1000 / opts.fps);
    }
  });
}
