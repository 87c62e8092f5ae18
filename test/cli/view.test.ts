import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { PortInUseError } from '../../src/errors.js';
import { runCli } from '../helpers/run-cli.js';
import { startViewerServer } from '../../src/render/server.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-view-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npcforge view', () => {
  it('says a busy port is busy in one line and suggests --port (exit 2)', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', () => ok()));
    const port = (blocker.address() as { port: number }).port;
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['view', tmp, '--port', String(port)])).toBe(2);
      const stderr = err.mock.calls.map((c) => String(c[0])).join('');
      expect(stderr).toMatch(new RegExp(`^npcforge: \\[npcforge view\\] expected a free port, received port ${port} on 127.0.0.1, already in use; fix: pass another --port`));
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      await expect(startViewerServer({ root: tmp, port })).rejects.toThrow(PortInUseError);
    } finally {
      err.mockRestore();
      blocker.close();
    }
  });

  it('--help says what a path may be: runs, a run, a folder of .npcep files, one .npcep file', async () => {
    const r = await runCli(['view', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: npcforge view \[options\] \[path\]/);
    for (const line of ['a folder of runs', 'a run folder', 'a folder of .npcep', 'a .npcep file', '--out <dir>']) expect(r.out).toContain(line);
  });
});
