/**
 * Open-loop action sequences for `fixed:` policies (`npcforge stats`, `npcforge record`).
 */
import { InvalidConfigError, formatError } from '../errors.js';

/**
 * Turns a `fixed:` sequence into action indices. Two spellings: comma-separated action names or
 * indices (`left,stay,2`), or one character per action (`lsr`, `0120`): a digit is an index, a
 * letter the action whose name starts with it (first letters must then be unique).
 */
export function parseFixedSequence(seq: string, actionNames: string[], component = 'fixed policy'): number[] {
  const bad = (expected: string, received: string, fix: string): never => {
    throw new InvalidConfigError(formatError(component, expected, received, fix));
  };
  const listing = actionNames.map((n, i) => `${i}=${n}`).join(', ');
  if (seq.length === 0) bad('a non-empty sequence after fixed:', "''", 'pass e.g. fixed:lrs, fixed:0120 or fixed:left,right');
  if (seq.includes(',')) {
    return seq.split(',').map((tok, pos) => {
      const t = tok.trim();
      const byName = actionNames.indexOf(t);
      const idx = byName >= 0 ? byName : /^\d+$/.test(t) ? Number(t) : -1;
      if (idx < 0 || idx >= actionNames.length) bad(`action names or indices (${listing})`, `'${t}' at position ${pos}`, 'fix the fixed:<a,b,...> list');
      return idx;
    });
  }
  const initials = actionNames.map((n) => n[0]!.toLowerCase());
  return Array.from(seq, (ch, pos) => {
    if (/[0-9]/.test(ch)) {
      const a = Number(ch);
      if (a >= actionNames.length) bad(`action digits below ${actionNames.length} (${listing})`, `'${ch}' at position ${pos}`, 'use a listed action index');
      return a;
    }
    const lower = ch.toLowerCase();
    if (!/[a-z]/.test(lower)) bad('letters or digits in the fixed sequence', `'${ch}' at position ${pos}`, `use action initials or indices (${listing})`);
    const matches = initials.flatMap((c, i) => (c === lower ? [i] : []));
    if (matches.length === 0) bad(`a letter among the action initials (${listing})`, `'${ch}' at position ${pos}`, 'use the first letter of an action name, or its index');
    if (matches.length > 1) bad('unique action initials to use letters', `'${ch}' matching ${matches.map((i) => actionNames[i]).join(' and ')}`, `use digits instead (${listing})`);
    return matches[0]!;
  });
}
