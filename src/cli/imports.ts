/**
 * `--import <module>`: user modules that `register` their games, imported before a game id is
 * resolved. A module is a path (relative to the working folder, or a file URL) or a package name
 * resolved from the working folder's project, so it is the user's installed package, not one in
 * npcforge's own node_modules. Runs record what they imported (`RunFile.imports`), so commands on
 * a run import the same modules without the flag.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GameModuleError, UnknownEnvError, formatError, describe } from '../errors.js';
import { isRegistered, listEnvs, observeRegistrations } from '../envs/registry.js';
import { readRunFile } from '../train/run-folder.js';
import type { ImportedModule } from '../train/run-config.js';

export type { ImportedModule };

/** What one import did: the module and the ids it registered. */
export interface ImportResult extends ImportedModule {
  registered: string[];
}

/** Longest part of a module's own error message quoted in ours. */
const MAX_QUOTED_MESSAGE = 160;

/** Where each id registered in this process came from (absent: npcforge's bundled games). */
const sources = new Map<string, string>();
/** Modules already imported in this process, by resolved URL. */
const imported = new Map<string, ImportResult>();

/** The `--import` option (repeatable) shared by every command that resolves a game id. */
export const IMPORT_FLAG = '--import <module>';
export const IMPORT_HELP = 'module that registers games (a path or a package name); repeatable; imported before the game id is resolved';
/** Commander's collector of the repeated flag. */
export function collectImport(value: string, acc: string[] = []): string[] {
  return [...acc, value];
}

function isPathLike(spec: string): boolean {
  return spec.startsWith('file:') || spec.startsWith('.') || isAbsolute(spec) || /\.(m|c)?js$/.test(spec);
}

/** The package's ESM entry from its package.json (`exports['.']` import/default, else `main`, else index.js). */
function packageEntry(dir: string): string | null {
  let pkg: { exports?: unknown; main?: unknown };
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return null;
  }
  let target: unknown = pkg.exports;
  if (target && typeof target === 'object' && '.' in (target as object)) target = (target as Record<string, unknown>)['.'];
  for (let depth = 0; target && typeof target === 'object' && depth < 4; depth++) {
    const t = target as Record<string, unknown>;
    target = t.import ?? t.node ?? t.default;
  }
  const rel = typeof target === 'string' ? target : typeof pkg.main === 'string' ? pkg.main : 'index.js';
  const file = resolve(dir, rel);
  return existsSync(file) ? file : null;
}

/** A package's entry file as seen from `cwd` (its node_modules, then the folders above). */
function resolvePackage(spec: string, cwd: string): string | null {
  // A bare package name: its ESM entry (what `import` loads), found the way node walks node_modules.
  if (/^(@[^/]+\/)?[^/@.][^/]*$/.test(spec)) {
    for (let dir = resolve(cwd); ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', spec);
      if (existsSync(join(candidate, 'package.json'))) {
        const entry = packageEntry(candidate);
        if (entry !== null) return entry;
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
  // Subpaths (`pkg/games.js`) and anything the walk above could not read: node's own resolution from the project.
  try {
    return createRequire(join(cwd, 'package.json')).resolve(spec);
  } catch {
    return null;
  }
}

/** Resolves `spec` from `cwd` to an absolute file URL; GameModuleError when it names nothing. */
export function resolveModule(spec: string, cwd: string = process.cwd()): ImportedModule {
  let file: string | null;
  if (isPathLike(spec)) {
    file = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(cwd, spec);
    if (!existsSync(file) || !statSync(file).isFile()) file = null;
  } else {
    file = resolvePackage(spec, cwd);
  }
  if (file === null) {
    throw new GameModuleError(formatError('--import', 'a module file (path relative to the working folder, .js/.mjs) or a package installed in the project', `${describe(spec)}, not found from ${cwd}`, 'check the path, or `npm install` the package in this project'));
  }
  return { spec, url: pathToFileURL(file).href };
}

/** The folder of this npcforge package (real path): the first folder above this file with npcforge's package.json. */
function ownRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'npcforge') return realpathSync(dir);
    } catch {
      // No package.json here (or not JSON): keep going up.
    }
    if (dirname(dir) === dir) return dirname(fileURLToPath(import.meta.url));
  }
}

/** The real folder of the `npcforge` a module would import, when it is not this one; null when it is or none is found. */
function otherNpcforge(moduleUrl: string): string | null {
  const entry = resolvePackage('npcforge', dirname(fileURLToPath(moduleUrl)));
  if (entry === null) return null;
  const real = realpathSync(entry);
  const own = ownRoot();
  if (real === own || real.startsWith(own + sep)) return null;
  for (let dir = dirname(real); dirname(dir) !== dir; dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  return dirname(real);
}

/** First line of a thrown value's message, shortened (never its stack). */
function shortMessage(err: unknown): string {
  const raw = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const line = raw.split(/\r?\n/)[0]!.trim();
  return line.length > MAX_QUOTED_MESSAGE ? `${line.slice(0, MAX_QUOTED_MESSAGE)}...` : line;
}

function sourceName(id: string): string {
  return sources.get(id) ?? 'npcforge (bundled game)';
}

/**
 * Imports one resolved module and records what it registered. An id registered twice (by another
 * module, a bundled game, or this module itself) is a GameModuleError naming both sources.
 * `origin` names who asked for it (the flag, or a run folder) in messages.
 */
export async function importModule(mod: ImportedModule, origin = '--import'): Promise<ImportResult> {
  const done = imported.get(mod.url);
  if (done) return done;
  const label = `${describe(mod.spec)}${origin === '--import' ? '' : ` (recorded by ${origin})`}`;
  const registered: string[] = [];
  let duplicate: { id: string; before: string } | null = null;
  const stop = observeRegistrations((id, replaced) => {
    if (duplicate) return;
    if (registered.includes(id)) duplicate = { id, before: `${describe(mod.spec)} itself` };
    else if (replaced) duplicate = { id, before: sourceName(id) };
    registered.push(id);
  });
  try {
    await import(mod.url);
  } catch (err) {
    throw new GameModuleError(formatError('--import', `module ${label} to import cleanly`, `an error on import: ${shortMessage(err)}`, 'fix the module (run it with node to see the stack)'));
  } finally {
    stop();
  }
  if (duplicate) {
    const { id, before } = duplicate as { id: string; before: string };
    throw new GameModuleError(formatError('--import', `each game id registered once`, `${describe(id)} registered by ${before} and again by ${describe(mod.spec)}`, 'give the game another id, or import the module once'));
  }
  for (const id of registered) sources.set(id, describe(mod.spec));
  const result = { ...mod, registered };
  imported.set(mod.url, result);
  return result;
}

/** Imports the `--import` modules, in order. */
export async function importModules(specs: readonly string[], cwd: string = process.cwd()): Promise<ImportResult[]> {
  const out: ImportResult[] = [];
  for (const spec of specs) out.push(await importModule(resolveModule(spec, cwd)));
  return out;
}

/**
 * Imports the modules a run recorded (its config.json `imports`) by their resolved URLs. A module
 * that is gone is one GameModuleError naming it and the run, unless the run's game is registered
 * already (the module was moved and `--import` names its new place).
 */
export async function importRunModules(runDir: string, notice: (line: string) => void = (line) => process.stderr.write(line + '\n')): Promise<ImportResult[]> {
  const file = readRunFile(runDir);
  const out: ImportResult[] = [];
  for (const m of file.imports ?? []) {
    if (typeof m?.url !== 'string' || typeof m.spec !== 'string' || !m.url.startsWith('file:')) continue;
    if (!existsSync(fileURLToPath(m.url))) {
      // Moved modules are named again with --import (imported before this): the run's game is then known.
      if (isRegistered(file.game)) continue;
      throw new GameModuleError(formatError('--import', `module ${describe(m.spec)} recorded by run ${runDir}`, `${fileURLToPath(m.url)}, which no longer exists`, `restore the module there, or pass --import <its new path> next to the run`));
    }
    // A run folder makes code run: say which, so a run folder from elsewhere cannot do it unseen.
    if (!imported.has(m.url)) notice(`npcforge: importing ${m.spec} (${fileURLToPath(m.url)}), recorded by run ${runDir}`);
    out.push(await importModule(m, `run ${runDir}`));
  }
  return out;
}

/**
 * Checks that `game` is registered after the imports; otherwise says why: a module that registered
 * no game, modules that registered other ids, or an unknown id (listing the known ones).
 */
export function requireGame(game: string, imports: readonly ImportResult[]): void {
  if (isRegistered(game)) return;
  const known = listEnvs().map((e) => e.id).join(', ');
  const empty = imports.filter((m) => m.registered.length === 0);
  if (empty.length) {
    const mod = empty[0]!;
    const other = otherNpcforge(mod.url);
    if (other !== null) {
      // Its register() went to another copy's registry: two copies never share games (nor Space classes).
      throw new GameModuleError(formatError('--import', `module ${describe(mod.spec)} to register game ${describe(game)} with this npcforge (${ownRoot()})`, `a module that imports another npcforge (${other}) and registered no game here`, 'run the npcforge installed in the project (`npx npcforge ...`), or install this one there'));
    }
    throw new GameModuleError(formatError('--import', `module ${describe(mod.spec)} to register game ${describe(game)}`, 'a module that registered no game', `call register(${describe(game)}, factory) in it, importing register from 'npcforge'`));
  }
  if (imports.length) {
    const what = imports.map((m) => `${describe(m.spec)} registered ${m.registered.map(describe).join(', ')}`).join('; ');
    throw new UnknownEnvError(formatError('--import', `a game ${describe(game)} registered by the imported modules`, what, `use one of those ids, or register ${describe(game)} in the module`));
  }
  // The shape of make's own error, so a command says the same with or without this check.
  throw new UnknownEnvError(formatError('make', `a registered env id (${known})`, describe(game), 'pick one of the listed ids, or pass --import <module> that registers your game'));
}
