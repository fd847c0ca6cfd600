// Loads the replicas of the open item (reviewers and managers) and the label maps they point
// at, and keeps which raters are shown over the image.

import { decodeLabelmap } from '@caliper/core/labelmap';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, enc } from '../../api';
import type { ReplicasView } from '../../types';
import { type RaterRow, raterRows, toggleAll as toggleAllKeys } from './raters';

/** A decoded label map: samples slice-major (index = i + j·cols + k·cols·rows). */
export interface DecodedLabelmap {
  shape: [number, number, number];
  data: Uint8Array | Uint16Array;
}

export interface RatersState {
  rows: RaterRow[];
  visible: ReadonlySet<string>;
  toggle(key: string): void;
  /** All on when any is off, otherwise all off. */
  toggleAll(): void;
  /** Decoded label maps by blob sha (filled in as they arrive). */
  labelmaps: ReadonlyMap<string, DecodedLabelmap>;
  /** A label map that could not be loaded (the rest still shows). */
  error: string | null;
}

const cache = new Map<string, Promise<DecodedLabelmap>>();

async function fetchLabelmap(assetId: string, sha: string): Promise<DecodedLabelmap> {
  const res = await fetch(`/api/assets/${enc(assetId)}/labelmaps/${enc(sha)}`, { headers: { Accept: 'application/octet-stream' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`A rater's label map could not be loaded (HTTP ${res.status}).`);
  const d = decodeLabelmap(new Uint8Array(await res.arrayBuffer()));
  return { shape: d.shape, data: d.data };
}

function loadLabelmap(assetId: string, sha: string): Promise<DecodedLabelmap> {
  const key = `${assetId}/${sha}`;
  let p = cache.get(key);
  if (!p) {
    p = fetchLabelmap(assetId, sha);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/**
 * The Raters panel state for (job, asset). Only asks the server when `enabled` (the caller may
 * read quality figures); an item without replicas (404) simply has no rows.
 */
export function useRaters(jobId: string, assetId: string, enabled: boolean): RatersState {
  const [view, setView] = useState<ReplicasView | null>(null);
  const [visible, setVisible] = useState<ReadonlySet<string>>(new Set());
  const [labelmaps, setLabelmaps] = useState<ReadonlyMap<string, DecodedLabelmap>>(new Map());
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setView(null);
    setError(null);
    if (!enabled || !jobId || !assetId) return;
    const ctrl = new AbortController();
    api
      .get<ReplicasView>(`/api/jobs/${enc(jobId)}/assets/${enc(assetId)}/replicas`, { signal: ctrl.signal })
      .then((v) => {
        setView(v);
        setVisible(new Set(raterRows(v).map((r) => r.key)));
      })
      .catch(() => {
        // 404: no replicas here (or no right to see them); nothing to show.
      });
    return () => ctrl.abort();
  }, [jobId, assetId, enabled]);

  const rows = useMemo(() => (view ? raterRows(view) : []), [view]);

  useEffect(() => {
    let live = true;
    const shas = new Set(rows.flatMap((r) => r.objects.filter((o) => o.kind === 'labelmap' && typeof o.blob === 'string').map((o) => o.blob as string)));
    setLabelmaps(new Map());
    for (const sha of shas) {
      loadLabelmap(assetId, sha).then(
        (d) => {
          if (live) setLabelmaps((m) => new Map(m).set(sha, d));
        },
        (err: unknown) => {
          if (live) setError(err instanceof Error ? err.message : String(err));
        },
      );
    }
    return () => {
      live = false;
    };
  }, [rows, assetId]);

  const toggle = useCallback((key: string) => {
    setVisible((v) => {
      const next = new Set(v);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  }, []);
  const toggleAll = useCallback(() => setVisible((v) => toggleAllKeys(rows.map((r) => r.key), v)), [rows]);
  return { rows, visible, toggle, toggleAll, labelmaps, error };
}
