import { describe, expect, it, vi } from 'vitest';
import { actionForKey, frameToText, parseGameOptions, parseKeys, textGrid } from '../../src/cli/commands/play.js';
import { main } from '../../src/cli/main.js';
import { make } from '../../src/envs/registry.js';
import { InvalidConfigError } from '../../src/errors.js';

describe('npcforge play helpers', () => {
  it('maps arrows and first letters to actions of each game', () => {
    const snake = ['up', 'right', 'down', 'left'];
    expect(['up', 'right', 'down', 'left'].map((k) => actionForKey(snake, k))).toEqual([0, 1, 2, 3]);
    expect(actionForKey(snake, 'R')).toBe(1);
    expect(actionForKey(snake, 'x')).toBe(-1);
    const maze = ['forward', 'left', 'right'];
    expect(actionForKey(maze, 'up')).toBe(0);
    expect(actionForKey(maze, 'down')).toBe(-1);
    const pong = ['noop', 'up', 'down'];
    expect(actionForKey(pong, 'space')).toBe(0);
    expect(actionForKey(pong, 'd')).toBe(2);
  });

  it('decodes arrow escape sequences, space and ctrl-c from raw input', () => {
    expect(parseKeys('\u001b[A\u001b[Dq \u0003')).toEqual(['up', 'left', 'q', 'space', 'ctrl-c']);
    expect(parseKeys('\u001bOC')).toEqual(['right']);
  });

  it('draws a frame as half-block text with the sampled colours', () => {
    const frame = { width: 2, height: 2, data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]) };
    const text = frameToText(frame, 2, 2);
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toContain('\u001b[38;2;255;0;0m\u001b[48;2;0;0;255m\u2580');
    expect(text).toContain('\u001b[38;2;0;255;0m\u001b[48;2;9;9;9m\u2580');
  });

  it('samples grid games on their observation grid and large frames to fit 80 columns', () => {
    const snake = make('snake');
    snake.reset({ seed: 1 });
    expect(textGrid(snake, snake.render())).toEqual({ cols: 18, rows: 18 });
    const pong = make('pong');
    pong.reset({ seed: 1 });
    expect(textGrid(pong, pong.render())).toEqual({ cols: 40, rows: 40 });
    const cartpole = make('cartpole');
    cartpole.reset({ seed: 1 });
    expect(textGrid(cartpole, cartpole.render())).toEqual({ cols: 80, rows: 53 });
  });

  it('parses --set options as JSON when possible', () => {
    expect(parseGameOptions(['botSkill=0.8', 'mode=vs-bot', 'maxStepsWithoutFruit=null'])).toEqual({ botSkill: 0.8, mode: 'vs-bot', maxStepsWithoutFruit: null });
    expect(() => parseGameOptions(['oops'])).toThrow(InvalidConfigError);
  });

  it('refuses to run without a terminal and rejects bad flags (exit code 2)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['play', 'snake'])).toBe(2);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/\[play\] expected an interactive terminal/);
      expect(await main(['play', 'snake', '--fps', '0', '--step-mode', 'fast'])).toBe(2);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/--fps "0".*--step-mode "fast"/);
      expect(await main(['play', 'pong', '--set', 'mode="two-player"'])).toBe(2);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/single discrete action/);
    } finally {
      err.mockRestore();
    }
  });
});
