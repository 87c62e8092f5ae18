import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatUnexpected, oneLine } from '../../src/cli/main.js';
import { npcforgeVersion } from '../../src/version.js';
import { runCli } from '../helpers/run-cli.js';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'npcforge.js');
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-main-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = runCli;

const ONE_LINE_USAGE = /^npcforge: \[cli\] expected [^\n]+, received [^\n]+; fix: run npcforge[a-z ]* --help\n$/;

describe('npcforge usage errors (commander)', () => {
  it.each([
    ['a required option of a subcommand', ['stats', 'catch', '--episodes', '3'], /the option --policy <policy> of npcforge stats, received none/],
    ['a missing argument', ['export'], /the argument <run> of npcforge export, received none/],
    ['an unknown option of a subcommand', ['games', '--bogus'], /an option of npcforge games, received --bogus/],
    ['an unknown option of a nested subcommand', ['replay', 'verify', 'x.npcep', '--bogus'], /an option of npcforge replay verify, received --bogus/],
    ['an unknown command', ['trian'], /a command \(games, [^)]*\), received "trian" \(Did you mean train\?\)/],
    ['too many arguments', ['games', 'extra'], /0 arguments for npcforge games, received 1/],
    ['an option without its value', ['stats', 'catch', '--policy'], /a value after --policy <policy>, received none/],
    ['no command at all', [], /a command \(games, [^)]*\), received none; fix: run npcforge --help/],
    ['a command group without its subcommand', ['replay'], /a command \(verify\), received none; fix: run npcforge replay --help/],
    ['an unknown subcommand', ['replay', 'nosuch'], /a command \(verify\), received "nosuch"/],
  ])('%s is one line in our shape, exit 2', async (_what, argv, detail) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(ONE_LINE_USAGE);
    expect(r.err).toMatch(detail);
  });

  it('names the subcommand in the fix', async () => {
    const r = await run(['fit', 'text']);
    expect(r.err).toContain('fix: run npcforge fit --help');
  });

  it('--help still prints the help and exits 0, and mentions NPCFORGE_DEBUG', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('NPCFORGE_DEBUG=1');
    const sub = await run(['stats', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.out).toContain('--policy');
  });
});

describe('npcforge train on a game the agent cannot learn', () => {
  it('dqn on a Box-action game: one line naming the agents that can, exit 2, before the backend starts and without a run folder', async () => {
    const out = join(tmp, 'box-pendulum');
    const r = await run(['train', 'pendulum', '--agent', 'dqn', '--steps', '100', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toEqual([expect.stringMatching(/\[--agent\] expected an agent that handles pendulum's Box action space, received dqn \(handles Discrete actions\)/), '']);
    expect(r.err).toMatch(/fix: use --agent .*ppo.*sac/);
    expect(r.err).not.toMatch(/compute backend/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('npcforge error printing', () => {
  it('folds a raw newline inside an error message onto one line', async () => {
    const dir = join(tmp, 'corrupt-run');
    mkdirSync(dir, { recursive: true });
    // Node's JSON.parse quotes the broken text, newlines included.
    writeFileSync(join(dir, 'config.json'), '{\n"format": x\n}');
    const r = await run(['eval', dir]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toHaveLength(2); // one line + the final newline
    expect(r.err).toMatch(/^npcforge: \[run folder\] expected a readable config.json/);
  });

  it('oneLine folds CR/LF runs and the spaces around them', () => {
    expect(oneLine('a\n  b\r\nc\n')).toBe('a b c');
  });

  it('prints an unexpected error as one line, with the stack only under NPCFORGE_DEBUG=1', () => {
    const err = new TypeError('bad\nthing');
    const saved = process.env.NPCFORGE_DEBUG;
    try {
      delete process.env.NPCFORGE_DEBUG;
      expect(formatUnexpected(err)).toBe('npcforge: unexpected error: TypeError: bad thing\n');
      process.env.NPCFORGE_DEBUG = '1';
      expect(formatUnexpected(err)).toMatch(/^npcforge: unexpected error: TypeError: bad thing\nTypeError: bad\nthing\n {4}at /);
    } finally {
      if (saved === undefined) delete process.env.NPCFORGE_DEBUG;
      else process.env.NPCFORGE_DEBUG = saved;
    }
  });
});

describe('npcforge process behaviour (bin/npcforge.js)', () => {
  it('ends quietly with exit 0 when stdout is closed early (`npcforge games | head -1`)', async () => {
    const child = spawn(process.execPath, [bin, 'games'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    // Close the reading end before the command writes anything: its first write hits EPIPE.
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
  });

  it('--version prints npcforge\'s own version, not the version of the project that ran npm', () => {
    const own = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(npcforgeVersion()).toBe(own);
    const r = spawnSync(process.execPath, [bin, '--version'], { cwd: tmp, encoding: 'utf8', env: { ...process.env, npm_package_version: '9.9.9-other' } });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(own);
  });
});
