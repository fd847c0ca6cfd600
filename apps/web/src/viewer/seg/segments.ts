// The segment table of a label map: which label value stands for which label of the project's
// schema, its colour, and how old documents' values map onto the current table. Pure logic.

import { packRgba } from '@caliper/core/labelmap';
import type { LabelDef } from '../../types';

/** One segment: label value in the label map ↔ a schema label that allows the `labelmap` kind. */
export interface SegmentDef {
  /** Label value (1-based position among the schema's labelmap labels). */
  value: number;
  label: string;
  /** CSS colour of the label ('#rrggbb'). */
  color: string;
  /** The same colour packed for renderLabelSlice (opaque). */
  rgba: number;
}

/** UI state of one segment (not saved with the label map). */
export interface SegmentUi {
  visible: boolean;
  locked: boolean;
  /** 0..1 */
  opacity: number;
}

/** Segment list of a labelmap object's geometry. */
export interface SegmentRef {
  value: number;
  label: string;
}

/** The geometry of a `labelmap` annotation object (DESIGN.md). */
export interface LabelmapGeometry {
  blob: string;
  shape: [number, number, number];
  segments: SegmentRef[];
}

export const DEFAULT_SEGMENT_OPACITY = 0.7;

/** Fallback colours for labels whose colour cannot be parsed. */
const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe'];

/** Parses '#rgb', '#rrggbb' or '#rrggbbaa' to [r, g, b]; null otherwise. */
export function parseHexColor(color: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(color.trim());
  if (!m) return null;
  let hex = m[1]!;
  if (hex.length === 3) hex = hex.split('').map((c) => c + c).join('');
  return [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
}

/**
 * The segments of a project's label schema: every label whose `kinds` include 'labelmap', in
 * schema order, value = 1-based position among them.
 */
export function segmentsFromLabels(labels: readonly LabelDef[]): SegmentDef[] {
  const out: SegmentDef[] = [];
  for (const l of labels) {
    if (!l.kinds.includes('labelmap')) continue;
    const value = out.length + 1;
    const rgb = parseHexColor(l.color);
    const color = rgb ? l.color : PALETTE[(value - 1) % PALETTE.length]!;
    const [r, g, b] = rgb ?? parseHexColor(color)!;
    out.push({ value, label: l.name, color, rgba: packRgba(r, g, b, 255) });
  }
  return out;
}

/** Colour table for renderLabelSlice: index = label value. */
export function colorTable(segments: readonly SegmentDef[]): Uint32Array {
  const max = segments.reduce((m, s) => Math.max(m, s.value), 0);
  const out = new Uint32Array(max + 1);
  for (const s of segments) out[s.value] = s.rgba;
  return out;
}

export interface ValueRemap {
  /** table[oldValue] = new value (0 for values whose label is gone or that the stored table does not list). */
  table: Uint16Array;
  /** True when every old value maps to itself (nothing to rewrite). */
  identity: boolean;
  /** Labels of the stored table that the current schema no longer has as labelmap labels. */
  dropped: string[];
}

/**
 * Maps the values of a stored label map (its `segments` table) onto the current segment table
 * by label name. Values not listed in the stored table, or whose label is gone, become 0.
 */
export function remapByLabel(stored: readonly SegmentRef[], current: readonly SegmentDef[], maxStoredValue: number): ValueRemap {
  const byName = new Map(current.map((s) => [s.label, s.value]));
  const table = new Uint16Array(maxStoredValue + 1);
  const dropped: string[] = [];
  for (const s of stored) {
    if (s.value > maxStoredValue) continue;
    const v = byName.get(s.label);
    if (v === undefined) {
      if (!dropped.includes(s.label)) dropped.push(s.label);
      continue;
    }
    table[s.value] = v;
  }
  let identity = true;
  for (let v = 1; v <= maxStoredValue; v++) if (table[v] !== v) identity = false;
  return { table, identity, dropped };
}
