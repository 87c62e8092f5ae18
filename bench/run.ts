/**
 * `npm run bench -- <name> [--json out.json] [...]`: runs one benchmark. To add one, write
 * `bench/<name>.ts` exporting `bench: Bench` and add one line to the table below.
 */
import type { Bench } from './harness.js';
import { parseBenchArgs } from './harness.js';
import '../games/index.js';

const benches: Record<string, () => Promise<{ bench: Bench }>> = {
  env: () => import('./env.js'),
  runtime: () => import('./runtime.js'),
};

/** Runs the named benchmark; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || !(name in benches)) {
    const out = name && name !== '--help' ? process.stderr : process.stdout;
    if (name && name !== '--help') out.write(`bench: unknown benchmark '${name}'\n`);
    out.write('usage: npm run bench -- <name> [--json out.json] [flags]\n');
    for (const [n, load] of Object.entries(benches)) out.write(`  ${n.padEnd(12)} ${(await load()).bench.description}\n`);
    return name && name !== '--help' ? 2 : 0;
  }
  const { bench } = await benches[name]!();
  await bench.run(parseBenchArgs(rest));
  return 0;
}
