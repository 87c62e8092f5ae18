/** Row texts of the viewer's side lists and the empty state (what to run when there is nothing to show). */
import type { EpisodeRow, ViewerSource } from '../api-types.js';
import { el, fmt } from './dom.js';

export type EpisodeListRow = Pick<EpisodeRow, 'name' | 'bytes' | 'summary' | 'error'>;
export type SourceInfo = ViewerSource;

/** The line under an episode's name: length, return and how it ended, or why the file cannot be played. */
export function episodeMeta(e: EpisodeListRow): string {
  const size = `${(e.bytes / 1024).toFixed(1)} KB`;
  if (e.error) return `unreadable: ${e.error}`;
  const s = e.summary;
  if (!s) return size;
  // Terminated is the usual end; say so only when it ended otherwise.
  const end = s.terminated ? '' : s.truncated ? ', truncated' : ', stopped before the end';
  return `${s.steps} step${s.steps === 1 ? '' : 's'}, return ${fmt(s.return)}${end}${s.agents ? `, ${s.agents} agents` : ''} · ${size}`;
}

/**
 * Fills `box` with what to do when the served folder holds nothing to show: the commands that
 * make a run (or an episode) and the one that views it.
 */
export function renderEmptyState(box: HTMLElement, source: SourceInfo): void {
  const where = `The folder "${source.name}" holds no runs yet. This page shows them as soon as one appears.`;
  const steps: Array<[string, string]> = [
    ['Train an agent (a few minutes on a laptop; evaluation episodes and metrics land in runs/):', 'npx npcforge train catch'],
    ['Or record episodes of any game without training:', 'npx npcforge record catch --episodes 3 --out episodes/catch'],
    ['Then view them:', 'npx npcforge view runs'],
  ];
  box.replaceChildren(
    el('h2', '', 'Nothing to show yet'),
    el('p', '', where),
    ...steps.flatMap(([text, cmd]) => {
      const code = el('code', 'cmd', cmd);
      const pre = el('pre', '');
      pre.append(code);
      return [el('p', '', text), pre];
    }),
    el('p', 'meta', '`npcforge view` also opens a folder of .npcep files or a single .npcep file; `npcforge fit` runs (supervised) get their own page.'),
  );
}
