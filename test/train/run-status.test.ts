/**
 * status.json of a run folder: written by train (new run, stop, resume) and read back untrusted;
 * a real SIGKILLed `npcforge train` reads as interrupted (its pid is gone), a live one as running.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { pidAlive } from '../../src/train/run-folder.js';
import { STALE_MS, STATUS_FILE, RunStatusWriter, classifyRunStatus, parseRunStatus, readRunStatus, type RunStatusFile } from '../../src/train/run-status.js';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'bin', 'npcforge.js');
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-status-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const readStatus = (dir: string): RunStatusFile => JSON.parse(readFileSync(join(dir, STATUS_FILE), 'utf8')) as RunStatusFile;

describe('RunStatusWriter', () => {
  it('writes running with pid and host, beats by mtime only, then finished (once)', async () => {
    const dir = join(tmp, 'w');
    mkdirp(dir);
    const w = new RunStatusWriter(dir);
    w.start();
    const s = readStatus(dir);
    expect(s).toMatchObject({ format: 'npcforge-run-status', version: 1, state: 'running', pid: process.pid, host: hostname(), endedAt: null, reason: null });
    const ino = statSync(join(dir, STATUS_FILE)).ino;
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, STATUS_FILE), past, past);
    w.beat();
    expect(statSync(join(dir, STATUS_FILE)).ino).toBe(ino);
    expect(Date.now() - statSync(join(dir, STATUS_FILE)).mtimeMs).toBeLessThan(30_000);
    expect(readStatus(dir)).toEqual(s);
    w.end('finished');
    w.end('interrupted', 'late');
    expect(readStatus(dir)).toMatchObject({ state: 'finished', reason: null, startedAt: s.startedAt });
    expect(readStatus(dir).endedAt).not.toBeNull();
  });
});

describe('parseRunStatus and classifyRunStatus', () => {
  const good: RunStatusFile = { format: 'npcforge-run-status', version: 1, state: 'running', pid: 1234, host: 'here', startedAt: 'x', endedAt: null, reason: null };
  it('accepts only a status file whose every field has its type', () => {
    expect(parseRunStatus(JSON.stringify(good))).toEqual(good);
    for (const bad of [{ format: 'other' }, { version: 2 }, { state: 'paused' }, { pid: -1 }, { pid: 1.5 }, { host: 'h'.repeat(300) }, { startedAt: 3 }, { endedAt: 5 }, { reason: {} }]) {
      expect(parseRunStatus(JSON.stringify({ ...good, ...bad })), JSON.stringify(bad)).toBeNull();
    }
    for (const text of ['', 'null', '[]', '{', '"running"']) expect(parseRunStatus(text)).toBeNull();
  });

  it('running: pid alive on this host and a fresh heartbeat; otherwise interrupted; ended states as written', () => {
    const now = 1_000_000;
    const at = (file: RunStatusFile, age: number, alive: boolean, host = 'here') => classifyRunStatus({ file, mtimeMs: now - age }, { now, host, pidAlive: () => alive });
    expect(at(good, 1000, true)).toBe('running');
    expect(at(good, 1000, false)).toBe('interrupted');
    // A reused pid: alive, but nobody beats any more.
    expect(at(good, STALE_MS + 1, true)).toBe('interrupted');
    // Another host's pid cannot be checked: the heartbeat decides.
    expect(at(good, 1000, false, 'elsewhere')).toBe('running');
    expect(at(good, STALE_MS + 1, false, 'elsewhere')).toBe('interrupted');
    expect(at({ ...good, state: 'finished' }, 1e9, false)).toBe('finished');
    expect(at({ ...good, state: 'interrupted' }, 0, true)).toBe('interrupted');
  });

  it('reads nothing from a FIFO, a folder or an oversized file', async () => {
    const dir = join(tmp, 'hostile');
    mkdirp(join(dir, STATUS_FILE));
    expect(await readRunStatus(dir)).toBeNull();
    const big = join(tmp, 'big');
    mkdirp(big);
    writeFileSync(join(big, STATUS_FILE), JSON.stringify({ ...good, reason: 'r'.repeat(5000) }));
    expect(await readRunStatus(big)).toBeNull();
    if (process.platform !== 'win32') {
      const fifo = join(tmp, 'fifo');
      mkdirp(fifo);
      execFileSync('mkfifo', [join(fifo, STATUS_FILE)]);
      expect(await readRunStatus(fifo)).toBeNull();
    }
  });
});

describe('train writes status.json', () => {
  const settings = { learningStarts: 50, batchSize: 8, bufferSize: 1000, checkpointEvery: 100, logEvery: 50, evalEvery: 100, evalEpisodes: 1, seed: 2 };
  const config = (steps: number) => {
    const { checkpointEvery, logEvery, evalEvery, evalEpisodes, seed, ...agent } = settings;
    return resolveRunConfig({ game: 'catch', file: agent, flags: { steps, checkpointEvery, logEvery, evalEvery, evalEpisodes, seed } });
  };

  it('running while it trains, interrupted when stopped, running again on resume, then finished', async () => {
    const runDir = join(tmp, 'run');
    const seen: string[] = [];
    let calls = 0;
    const first = await train({ config: config(400), runDir, progress: null, shouldStop: () => ++calls > 150, onEvalEpisode: () => void seen.push(readStatus(runDir).state) });
    expect(first.interrupted).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['running']));
    expect(readStatus(runDir)).toMatchObject({ state: 'interrupted', reason: 'stop requested', pid: process.pid });
    const during: string[] = [];
    const second = await train({ resume: runDir, progress: null, onEvalEpisode: () => void during.push(readStatus(runDir).state) });
    expect(second.interrupted).toBe(false);
    expect(new Set(during)).toEqual(new Set(['running']));
    expect(readStatus(runDir)).toMatchObject({ state: 'finished', reason: null });
  });

  it('a real SIGKILLed train reads as interrupted (running before the kill)', async () => {
    const out = join(tmp, 'killed');
    writeFileSync(join(tmp, 'cfg.json'), JSON.stringify({ learningStarts: 50, batchSize: 8, logEvery: 50 }));
    const child = spawn(process.execPath, [cli, 'train', 'catch', '--steps', '10000000', '--out', out, '--config', join(tmp, 'cfg.json'), '--no-progress'], { stdio: 'ignore' });
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    const deadline = Date.now() + 60_000;
    let runDir = '';
    while (Date.now() < deadline) {
      const names = existsSync(out) ? readdirSync(out) : [];
      if (names.length && existsSync(join(out, names[0]!, 'metrics.jsonl')) && readFileSync(join(out, names[0]!, 'metrics.jsonl'), 'utf8').length > 0) {
        runDir = join(out, names[0]!);
        break;
      }
      await new Promise((ok) => setTimeout(ok, 50));
    }
    expect(runDir).not.toBe('');
    const opts = () => ({ now: Date.now(), host: hostname(), pidAlive });
    const live = (await readRunStatus(runDir))!;
    expect(live.file).toMatchObject({ state: 'running', pid: child.pid });
    expect(classifyRunStatus(live, opts())).toBe('running');
    child.kill('SIGKILL');
    await exited;
    const dead = (await readRunStatus(runDir))!;
    expect(dead.file?.state).toBe('running');
    expect(classifyRunStatus(dead, opts())).toBe('interrupted');
  });
});

function mkdirp(dir: string): void {
  mkdirSync(dir, { recursive: true });
}
