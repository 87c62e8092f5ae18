/**
 * `loadLadder`: reads a difficulty ladder (`npcforge export <run> --ladder N`) from a URL or a
 * folder path and loads its levels by name, each with `loadPolicy` on the level's bundle folder.
 */
import { InvalidConfigError, describe, formatError } from '../errors.js';
import { parseLadderFile, MAX_LADDER_JSON_BYTES, type LadderFile } from './ladder-file.js';
import { loadPolicy, openBundleReader, type LoadPolicyOptions } from './load-policy.js';
import type { Policy } from './policy.js';

export interface LoadLadderOptions {
  /** Game id the caller plays; a ladder of another game is rejected (as `loadPolicy` does). */
  game?: string;
  /** fetch implementation for URLs (default globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
}

export interface Ladder {
  /** The checked ladder.json. */
  readonly file: LadderFile;
  /** Level names, weakest first. */
  readonly levels: string[];
  /** Alias -> level name (`easy` -> `level-1` in a ladder of 3). */
  readonly aliases: Readonly<Record<string, string>>;
  /** The level name a name or alias stands for; an unknown name throws, listing the names. */
  resolve(name: string): string;
  /** Loads a level's policy by name or alias. The caller owns (disposes) the policy. */
  load(name: string, options?: Omit<LoadPolicyOptions, 'fetch'>): Promise<Policy>;
}

/** Loads ladder.json from a ladder folder (URL or path) and checks it; levels load on demand. */
export async function loadLadder(source: string, options: LoadLadderOptions = {}): Promise<Ladder> {
  if (typeof source !== 'string' || source.length === 0) {
    throw new InvalidConfigError(formatError('loadLadder', 'a URL or folder path of a ladder', describe(source), "pass e.g. '/npc/' or 'runs/<id>/ladder'"));
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const reader = await openBundleReader(source, fetchImpl, 'loadLadder', 'ladder.json');
  const file = parseLadderFile(new TextDecoder().decode(await reader.read('ladder.json', MAX_LADDER_JSON_BYTES)));
  if (options.game !== undefined && options.game !== file.game) {
    throw new InvalidConfigError(formatError('loadLadder', `a ladder for game ${describe(options.game)}`, `a ladder for ${describe(file.game)}`, 'load the ladder exported from a run of this game'));
  }
  const levels = file.levels.map((l) => l.name);
  const aliases: Record<string, string> = {};
  for (const l of file.levels) for (const a of l.aliases) aliases[a] = l.name;
  const known = [...levels, ...Object.keys(aliases)];
  const resolve = (name: string): string => {
    if (typeof name === 'string' && levels.includes(name)) return name;
    if (typeof name === 'string' && Object.hasOwn(aliases, name)) return aliases[name]!;
    throw new InvalidConfigError(formatError('loadLadder', `a level of the ladder (${known.join(', ')})`, describe(name), 'pass one of the listed names'));
  };
  const base = source.endsWith('/') ? source : `${source}/`;
  return {
    file,
    levels,
    aliases,
    resolve,
    load: async (name, loadOptions = {}) => {
      const level = resolve(name);
      // The level folder must be inside the ladder folder (a symlinked level is refused) before loadPolicy reads it.
      await reader.size(`${level}/policy.json`);
      return loadPolicy(`${base}${level}/`, { ...loadOptions, game: loadOptions.game ?? file.game, fetch: fetchImpl });
    },
  };
}
