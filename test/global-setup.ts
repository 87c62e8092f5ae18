/** Builds dist/ once before the suite when it is stale: worker threads and the CLI run compiled JS. */
// @ts-expect-error plain .mjs build helper without type declarations
import { buildIfStale } from '../scripts/build-if-stale.mjs';

export function setup(): void {
  buildIfStale();
}
