/**
 * The run list's filters (game, agent: from each run's config.json, via `/api/runs`), the compare
 * tick box and status badge of a run row, and "all seeds of this game/agent".
 */
import { $, el } from './dom.js';
import type { CurveRunInfo } from './curves.js';

/** Empty string: any. */
export interface RunFilter {
  game: string;
  agent: string;
}

export function filterRuns<T extends CurveRunInfo>(runs: readonly T[], f: RunFilter): T[] {
  return runs.filter((r) => (!f.game || r.game === f.game) && (!f.agent || r.agent === f.agent));
}

/** The runs of the same game and agent as `run` (its seeds), in list order; [] when it has no game/agent. */
export function seedsOf(runs: readonly CurveRunInfo[], run: string): string[] {
  const me = runs.find((r) => r.name === run);
  if (!me?.game || !me.agent) return [];
  return runs.filter((r) => r.game === me.game && r.agent === me.agent && r.metrics).map((r) => r.name);
}

/** Fills the game and agent menus from the runs (keeping the choice); `changed` runs after a pick. */
export function renderRunFilters(runs: readonly CurveRunInfo[], f: RunFilter, changed: () => void): void {
  const fill = (id: string, key: 'game' | 'agent', label: string): void => {
    const select = $<HTMLSelectElement>(id);
    const values = [...new Set(runs.map((r) => r[key]).filter((v): v is string => typeof v === 'string'))].sort();
    const want = ['', ...values];
    const have = Array.from(select.options, (o) => o.value);
    if (have.length !== want.length || have.some((v, i) => v !== want[i])) {
      select.replaceChildren(
        ...want.map((v) => {
          const o = document.createElement('option');
          o.value = v;
          o.textContent = v || `all ${label}`;
          return o;
        }),
      );
    }
    select.value = values.includes(f[key]) ? f[key] : '';
    f[key] = select.value;
    select.onchange = () => {
      f[key] = select.value;
      changed();
    };
  };
  fill('filter-game', 'game', 'games');
  fill('filter-agent', 'agent', 'agents');
}

/** Adds a run row's compare tick box (before its name) and its status badge. */
export function runRowExtras(li: HTMLElement, r: CurveRunInfo, checked: boolean, toggle: (on: boolean) => void): void {
  li.dataset.run = r.name;
  if (r.metrics) {
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.className = 'compare';
    box.checked = checked;
    box.title = 'compare this run';
    box.setAttribute('aria-label', `compare ${r.name}`);
    box.addEventListener('change', () => toggle(box.checked));
    li.prepend(box);
  }
  const meta = li.querySelector('.meta');
  if (r.status) meta?.prepend(el('span', `run-status ${r.status}`, r.status), ' ');
  if (r.game || r.agent) meta?.append(`, ${[r.game, r.agent, r.seed !== undefined ? `seed ${r.seed}` : ''].filter(Boolean).join(' / ')}`);
}
