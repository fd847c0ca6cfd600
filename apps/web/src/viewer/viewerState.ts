// Viewer settings that follow a series across navigation (window/level, layout, invert): kept
// in memory for the session and in localStorage, keyed by series (or asset when there is none).

import type { WindowLevel } from './render';

export type Layout = '1x1' | '1x3' | '2x2';

export interface SeriesViewState {
  win?: WindowLevel;
  layout?: Layout;
  invert?: boolean;
}

const memory = new Map<string, SeriesViewState>();
const PREFIX = 'caliper.viewer.';

export function loadViewState(key: string): SeriesViewState {
  const hit = memory.get(key);
  if (hit) return hit;
  try {
    const raw = typeof localStorage === 'undefined' ? null : localStorage.getItem(PREFIX + key);
    if (raw) {
      const parsed = JSON.parse(raw) as SeriesViewState;
      memory.set(key, parsed);
      return parsed;
    }
  } catch {
    // Storage unavailable or corrupt: start from defaults.
  }
  return {};
}

export function saveViewState(key: string, patch: SeriesViewState): void {
  const next = { ...loadViewState(key), ...patch };
  memory.set(key, next);
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify(next));
  } catch {
    // Quota or privacy mode: the in-memory copy still works for this session.
  }
}
