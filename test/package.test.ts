import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('package entry point', () => {
  it("supports `import { make } from 'npcforge'` from the built package", () => {
    const script = [
      "import { make, listEnvs, WorkerVectorEnv, FrameStack, checkEnv, InvalidConfigError } from 'npcforge';",
      "const env = make('catch');",
      'const { obs } = env.reset({ seed: 1 });',
      "console.log(JSON.stringify({ ids: listEnvs().map((e) => e.id), size: obs.length, ok: [WorkerVectorEnv, FrameStack, checkEnv, InvalidConfigError].every((x) => typeof x === 'function') }));",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.ids).toEqual(expect.arrayContaining(['catch', 'cartpole']));
    expect(out.size).toBe(50);
    expect(out.ok).toBe(true);
  });
});
