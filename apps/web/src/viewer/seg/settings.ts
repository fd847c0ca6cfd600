// Segmentation tool settings shared by the layer, the panel and the page (keys), and helpers.

import { useEffect, useRef, useState } from 'react';

export type SegTool = 'brush' | 'eraser' | 'threshold' | 'flood' | 'scissors-rect' | 'scissors-circle' | 'sphere-scissors';

export const SEG_TOOLS: readonly SegTool[] = ['brush', 'eraser', 'threshold', 'flood', 'scissors-rect', 'scissors-circle', 'sphere-scissors'];

export interface SegSettings {
  /** Brush radius in mm (1..50). */
  radiusMm: number;
  /** 3D sphere brush; otherwise a 2D disc in the view plane. */
  sphere: boolean;
  /** Threshold brush range in modality units (HU for CT). */
  threshold: [number, number];
  /** Flood fill: image values within seed ± tolerance (modality units). */
  tolerance: number;
  floodMode: '2d' | '3d';
  /** Scissors clear instead of fill (Shift inverts it while dragging). */
  scissorsErase: boolean;
}

export const DEFAULT_SEG_SETTINGS: SegSettings = {
  radiusMm: 5,
  sphere: false,
  threshold: [-100, 300],
  tolerance: 50,
  floodMode: '2d',
  scissorsErase: false,
};

export const MIN_RADIUS_MM = 1;
export const MAX_RADIUS_MM = 50;

/** Threshold presets for CT (HU). */
export const CT_THRESHOLD_PRESETS: readonly { name: string; range: [number, number] }[] = [
  { name: 'Lung', range: [-1000, -400] },
  { name: 'Fat', range: [-190, -30] },
  { name: 'Soft tissue', range: [-100, 300] },
  { name: 'Liver', range: [40, 200] },
  { name: 'Bone', range: [200, 3000] },
];

function radiusStep(r: number): number {
  return r < 10 ? 1 : r < 20 ? 2 : 5;
}

/**
 * Next brush radius for the `]` (dir 1) and `[` (dir -1) keys: steps of 1 mm below 10 mm,
 * 2 mm up to 20 mm, 5 mm above; clamped to 1..50 mm. Up then down returns to the start.
 */
export function adjustRadius(r: number, dir: 1 | -1): number {
  const cur = Number.isFinite(r) ? Math.min(MAX_RADIUS_MM, Math.max(MIN_RADIUS_MM, r)) : DEFAULT_SEG_SETTINGS.radiusMm;
  const next = dir > 0 ? cur + radiusStep(cur) : cur - radiusStep(cur - 1e-9);
  return Math.min(MAX_RADIUS_MM, Math.max(MIN_RADIUS_MM, Math.round(next * 100) / 100));
}

/** Anything with a version counter and a subscribe method (SegSession, SegSaver via a getter). */
export interface Versioned {
  subscribe(fn: () => void): () => void;
}

/**
 * Re-renders the calling component after `source` changes, at most once per animation frame
 * (a brush drag changes the session on every pointer move).
 */
export function useFrameSubscription(source: Versioned | null): number {
  const [tick, setTick] = useState(0);
  const frame = useRef<number | null>(null);
  useEffect(() => {
    if (!source) return;
    const unsub = source.subscribe(() => {
      if (frame.current !== null) return;
      frame.current = requestAnimationFrame(() => {
        frame.current = null;
        setTick((t) => t + 1);
      });
    });
    return () => {
      unsub();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    };
  }, [source]);
  return tick;
}
