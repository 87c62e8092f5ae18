import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { listEnvs, make } from '../../src/envs/registry.js';
import { Discrete } from '../../src/envs/spaces.js';
import { encodeEpisode, readEpisode } from '../../src/replay/episodes/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcrec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('npcforge record / replay verify', () => {
  const isDiscrete = (id: string): boolean => {
    const env = make(id);
    const ok = env.actionSpace instanceof Discrete;
    env.close();
    return ok;
  };
  it('fixed:<seq> names Discrete actions: refused for a Box or MultiDiscrete game in one line, before any file', async () => {
    for (const game of ['pendulum', 'tank']) {
      const rec = await run(['record', game, '--policy', 'fixed:0,1', '--out', join(tmp, `fixed-${game}`)]);
      expect(rec.code).toBe(2);
      expect(rec.err.trim().split('\n')).toHaveLength(1);
      expect(rec.err).toMatch(/expected --policy 'random' or a run folder for a game without Discrete actions, received "fixed:0,1"/);
      expect(existsSync(join(tmp, `fixed-${game}`))).toBe(false);
    }
  });
  // Every game: Discrete ones as version 1 files, MultiDiscrete and Box ones (tank, pendulum, mountain-car-continuous) as version 2.
  for (const { id } of listEnvs()) {
    it(`records ${id} episodes that replay verify accepts`, async () => {
      const dir = join(tmp, id.replace(/\//g, '_'));
      const rec = await run(['record', id, '--episodes', '2', '--seed', '4', '--out', dir, '--max-steps', '200']);
      expect(rec.code).toBe(0);
      const files = readdirSync(dir).filter((f) => f.endsWith('.npcep')).sort();
      expect(files).toHaveLength(2);
      expect(rec.out).toContain(files[0]);
      const ep = readEpisode(new Uint8Array(readFileSync(join(dir, files[1]!))));
      expect(ep.header.seed).toBe(5);
      expect(ep.header.meta).toEqual({ policy: 'random', episode: 1 });
      expect(ep.header.version).toBe(isDiscrete(id) ? 1 : 2);
      const v = await run(['replay', 'verify', ...files.map((f) => join(dir, f))]);
      expect(v.code).toBe(0);
      expect(v.out.match(/^ok /gm)).toHaveLength(2);
    });
  }

  it('follows a fixed action sequence given by names or indices', async () => {
    const dir = join(tmp, 'fixed');
    expect((await run(['record', 'catch', '--policy', 'fixed:left,2,stay', '--out', dir])).code).toBe(0);
    const [file] = readdirSync(dir);
    const ep = readEpisode(new Uint8Array(readFileSync(join(dir, file!))));
    expect(Array.from(ep.actions)).toEqual([0, 2, 1, 0, 2, 1, 0, 2, 1]);
  });

  it('names folders like train (game with / -> -) and files <source>-s<seed>-e<index>', async () => {
    const cwd = process.cwd();
    const work = join(tmp, 'default-out');
    mkdirSync(work);
    process.chdir(work);
    try {
      const r = await run(['record', 'minatar/breakout', '--episodes', '2', '--seed', '3', '--max-steps', '20']);
      expect(r.code).toBe(0);
      const [folder, ...more] = readdirSync(join(work, 'runs'));
      expect(more).toEqual([]);
      expect(folder).toMatch(/^minatar-breakout__random__s3__\d{8}-\d{6}$/);
      expect(readdirSync(join(work, 'runs', folder!, 'episodes')).sort()).toEqual(['minatar-breakout-s3-e000.npcep', 'minatar-breakout-s4-e001.npcep']);
    } finally {
      process.chdir(cwd);
    }
  });

  it('accepts --checkpoint only with a run as the policy, and says in --help that best/ comes first', async () => {
    const r = await run(['record', 'catch', '--checkpoint', '10', '--out', join(tmp, 'x')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^npcforge: \[npcforge record\] expected --checkpoint only with --policy <run folder>/);
    for (const cmd of ['record', 'export', 'eval']) {
      const h = await run([cmd, '--help']);
      expect(h.code).toBe(0);
      // commander wraps help text: compare with the whitespace folded.
      const text = h.out.replace(/\s+/g, ' ');
      expect(text).toContain('best-evaluated weights in <run>/best/ when present, else the latest checkpoint');
      expect(text).not.toMatch(/default: latest\)/);
    }
  });

  it('rejects unknown policies and bad flags with exit code 2', async () => {
    const a = await run(['record', 'catch', '--policy', 'runs/some-run', '--out', join(tmp, 'x')]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/expected --policy 'random' or 'fixed:<actions>'/);
    expect((await run(['record', 'catch', '--policy', 'fixed:jump', '--out', join(tmp, 'x')])).code).toBe(2);
    expect((await run(['record', 'catch', '--episodes', '0', '--out', join(tmp, 'x')])).code).toBe(2);
  });

  it('exits 1 when a frame does not match, or the file is not an episode', async () => {
    const dir = join(tmp, 'tamper');
    await run(['record', 'catch', '--out', dir, '--seed', '9']);
    const [file] = readdirSync(dir);
    const path = join(dir, file!);
    const ep = readEpisode(new Uint8Array(readFileSync(path)));
    // Change the first action: the paddle starts mid-row, so any other action moves it elsewhere.
    const frames = Array.from({ length: ep.frameCount }, (_, k) => ep.frame(k));
    const steps = Array.from(ep.actions, (a, t) => ({ action: t === 0 ? (a + 1) % 3 : a, reward: ep.rewards[t]!, terminated: ep.terminated[t] === 1, truncated: ep.truncated[t] === 1, frame: frames[t + 1]! }));
    const other = join(dir, 'other.npcep');
    writeFileSync(other, encodeEpisode(ep.header, frames[0]!, steps));
    const bad = await run(['replay', 'verify', path, other]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^ok .*catch-s9-e000\.npcep/);
    expect(bad.err).toMatch(/\[replay verify .*other\.npcep\] expected step 0 \(frame 1, frame\) to match the recording, received \d+ of 3200 pixels differ/);
    writeFileSync(join(dir, 'junk.npcep'), 'hello');
    const junk = await run(['replay', 'verify', join(dir, 'junk.npcep')]);
    expect(junk.code).toBe(1);
    expect(junk.err).toMatch(/EpisodeFormat|\[readEpisode .*junk\.npcep\] expected/);
  });

  it('replay verify on a missing file, a folder or a FIFO: one line, no stack, exit 2', async () => {
    const dir = join(tmp, 'notfiles');
    mkdirSync(join(dir, 'folder.npcep'), { recursive: true });
    execFileSync('mkfifo', [join(dir, 'fifo.npcep')]);
    const cases: Array<[string, RegExp]> = [
      ['/nonexistent.npcep', /^npcforge: \[readEpisode \/nonexistent\.npcep\] expected an episode file, received no such file; fix: check the path\n$/],
      [join(dir, 'folder.npcep'), /^npcforge: \[readEpisode .*folder\.npcep\] expected a regular \.npcep file, received a folder; fix: .*\n$/],
      [join(dir, 'fifo.npcep'), /^npcforge: \[readEpisode .*fifo\.npcep\] expected a regular \.npcep file, received a FIFO; fix: .*\n$/],
    ];
    for (const [path, message] of cases) {
      const r = await run(['replay', 'verify', path]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/unexpected error|ENOENT|EISDIR|\n\s+at /);
    }
  });
});
