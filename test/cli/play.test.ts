import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { actionForKey, frameToText, parseGameOptions, parseKeys, textGrid } from '../../src/cli/commands/play.js';
import { main } from '../../src/cli/main.js';
import { make } from '../../src/envs/registry.js';
import { InvalidConfigError, PortInUseError } from '../../src/errors.js';
import { startNpcPlayServer } from '../../src/export/play-server.js';

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
    expect(textGrid(snake, snake.render!())).toEqual({ cols: 18, rows: 18 });
    const pong = make('pong');
    pong.reset({ seed: 1 });
    expect(textGrid(pong, pong.render!())).toEqual({ cols: 40, rows: 40 });
    const cartpole = make('cartpole');
    cartpole.reset({ seed: 1 });
    expect(textGrid(cartpole, cartpole.render!())).toEqual({ cols: 80, rows: 53 });
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

describe('npcforge play --npc', () => {
  const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const GOOD = join(REPO, 'examples', 'pong', 'npc');
  const tmp = mkdtempSync(join(tmpdir(), 'npcforge-play-npc-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A copy of the example bundle with one file replaced. */
  function brokenBundle(name: string, file: string, content: string): string {
    const dir = join(tmp, name);
    mkdirSync(dir);
    for (const f of readdirSync(GOOD)) copyFileSync(join(GOOD, f), join(dir, f));
    writeFileSync(join(dir, file), content);
    return dir;
  }

  async function run(args: string[]): Promise<{ code: number; stderr: string }> {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const code = await main(args);
      return { code, stderr: err.mock.calls.map((c) => String(c[0])).join('') };
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  }

  it('refuses a broken bundle in one line before serving (exit 2)', async () => {
    // Loose on the wording of the runtime's own messages (they belong to loadPolicy); strict on one line and exit 2.
    const cases: Array<[string, RegExp]> = [
      [brokenBundle('short-weights', 'weights.bin', 'xx'), /\[loadPolicy\] expected .*bytes.*2 bytes/],
      [brokenBundle('bad-model', 'model.json', '{"modelTopology":{"class_name":"Nope","config":{}},"weightsManifest":[]}'), /\[(play --npc|loadPolicy)\] expected .*model/],
      [brokenBundle('bad-policy', 'policy.json', '{"format":"npcforge-policy","version":1}'), /policy\.json/],
      [join(tmp, 'missing'), /policy\.json/],
      // A bundle of another game or of a newer format is a bad --npc argument too, not a crash (exit 1).
      [brokenBundle('other-game', 'policy.json', readFileSync(join(GOOD, 'policy.json'), 'utf8').replace('"id": "pong"', '"id": "catch"')), /expected a policy for game "pong", received a policy for "catch"/],
      [brokenBundle('future-version', 'policy.json', readFileSync(join(GOOD, 'policy.json'), 'utf8').replace('"version": 1,', '"version": 99,')), /version/],
    ];
    for (const [dir, message] of cases) {
      const r = await run(['play', 'pong', '--npc', dir, '--port', '0']);
      expect(r.code, dir).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('says a busy port is busy in one line and suggests --port (exit 2)', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', () => ok()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await run(['play', 'pong', '--npc', GOOD, '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^npcforge: \\[play --npc\\] expected a free port, received port ${port} on 127.0.0.1, already in use; fix: pass another --port`));
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      const direct = startNpcPlayServer({ game: 'pong', bundleDir: GOOD, root: REPO, port });
      await expect(direct).rejects.toThrow(PortInUseError);
    } finally {
      blocker.close();
    }
  });
});
