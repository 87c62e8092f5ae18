/** Runs the CLI in-process (`main(argv)`) and captures what it writes to stdout and stderr. */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCli(argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/**
 * Like `runCli`, with stderr as one entry per write (a one-line error is one entry) and without
 * the compute-backend notice that the first model build prints.
 */
export async function runCliWrites(argv: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(argv);
    return { code, out: out.mock.calls.map((c) => String(c[0])).join(''), err: err.mock.calls.map((c) => String(c[0])).filter((l) => !l.startsWith('npcforge: compute backend')) };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
