// The asset's annotation objects, topmost first (document order is the z-order; the last
// object in the document is drawn on top):
// colour swatch, kind, label, slice/frame and measured value, with hide/lock/delete, z-order
// and copy-to-next-slice buttons. Keyboard: Tab to a row, ArrowUp/ArrowDown move between rows
// (and select), Enter/Space selects and jumps, Delete removes, H hides, L locks.

import { memo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import type { AnyObject, LabelDef } from '../types';
import type { EditObjects } from './types';
import { formatMeasured } from './tools/measure';
import { copyToSlice, isPlaneShape, jumpSliceOf, moveNextTo, planeIndexOf, removeObject, VIEWER_KINDS } from './tools/model';
import { DEFAULT_COLOR } from './tools/render';

export interface ObjectListProps {
  objects: AnyObject[];
  labels: readonly LabelDef[];
  selectedId: string | null;
  onSelect: (id: string | null) => void;
  /** Show this slice (or frame) in the viewport. */
  onJump?: (slice: number) => void;
  hidden: ReadonlySet<string>;
  locked: ReadonlySet<string>;
  onToggleHidden: (id: string) => void;
  onToggleLocked: (id: string) => void;
  onEdit: EditObjects;
  userId: string;
  /** Number of slices/frames; "copy to next slice" is disabled on the last one. */
  sliceCount?: number;
  /** Word for the plane index in the list ("Slice" or "Frame"). */
  planeWord?: string;
  /** Read-only lists (viewers, reviewers) hide the editing buttons. */
  readOnly?: boolean;
}

const KIND_NAMES: Record<string, string> = {
  box: 'Box', ellipse: 'Ellipse', polygon: 'Polygon', polyline: 'Polyline', points: 'Points', mask: 'Mask', landmarks: 'Landmarks', measurement: 'Measurement',
};
const MEASURE_NAMES: Record<string, string> = { length: 'Length', angle: 'Angle', area: 'Area', bidirectional: 'Bidirectional', volume: 'Volume' };

/** The value column: a measurement's value, the number of points or landmarks. */
export function objectValueText(o: AnyObject): string {
  if (o.kind === 'measurement' && typeof o.value === 'number') {
    return formatMeasured(String(o.type), { value: o.value, unit: String(o.unit), shortAxis: typeof o.shortAxis === 'number' ? o.shortAxis : undefined });
  }
  if ((o.kind === 'points' || o.kind === 'landmarks') && Array.isArray(o.points)) {
    const n = o.points.length;
    return `${n} ${o.kind === 'points' ? (n === 1 ? 'point' : 'points') : n === 1 ? 'landmark' : 'landmarks'}`;
  }
  return '';
}

/** Rows rendered at first; a document can hold tens of thousands of objects. */
const PAGE = 200;

/** Memoised: the workspace re-renders on every tool or slice change, the list need not. */
export const ObjectList = memo(function ObjectList(props: ObjectListProps) {
  const { objects, labels, selectedId, onSelect, onJump, hidden, locked, onToggleHidden, onToggleLocked, onEdit, userId, sliceCount, planeWord = 'Slice', readOnly } = props;
  const listRef = useRef<HTMLUListElement>(null);
  const [limit, setLimit] = useState(PAGE);
  // Shown topmost first (the reverse of document order).
  const items = objects.filter((o) => VIEWER_KINDS.has(o.kind)).reverse();
  const selectedIndex = selectedId ? items.findIndex((o) => o.id === selectedId) : -1;
  const shown = Math.max(limit, selectedIndex + 1);
  const colorOf = (o: AnyObject) => labels.find((l) => l.name === o.label)?.color ?? DEFAULT_COLOR;

  const choose = (o: AnyObject) => {
    onSelect(o.id);
    const s = jumpSliceOf(o);
    if (s !== undefined) onJump?.(s);
  };
  const remove = (id: string) => {
    if (locked.has(id)) return;
    onEdit((objs) => removeObject(objs, id));
    if (selectedId === id) onSelect(null);
  };
  /** Forward: above the object listed just above it; backward: below the one listed just below. */
  const move = (index: number, how: 'forward' | 'backward') => {
    const o = items[index];
    const other = items[how === 'forward' ? index - 1 : index + 1];
    if (!o || !other) return;
    onEdit((objs) => moveNextTo(objs, o.id, other.id, how === 'forward' ? 'above' : 'below'));
  };
  const copyNext = (o: AnyObject) => {
    const idx = planeIndexOf(o);
    if (idx === undefined) return;
    const copy = copyToSlice(o, idx + 1, { userId });
    if (!copy) return;
    onEdit((objs) => [...objs, copy]);
    onSelect(copy.id);
    onJump?.(idx + 1);
  };
  const focusRow = (index: number) => {
    const rows = listRef.current?.querySelectorAll<HTMLButtonElement>('.object-row-main');
    const target = rows?.[Math.max(0, Math.min((rows?.length ?? 1) - 1, index))];
    target?.focus();
  };

  const onRowKey = (e: ReactKeyboardEvent<HTMLButtonElement>, o: AnyObject, index: number) => {
    let handled = true;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        const next = items[index + (e.key === 'ArrowDown' ? 1 : -1)];
        if (next) {
          onSelect(next.id);
          focusRow(index + (e.key === 'ArrowDown' ? 1 : -1));
        }
        break;
      }
      case 'Delete':
        if (!readOnly) remove(o.id);
        break;
      case 'h':
      case 'H':
        onToggleHidden(o.id);
        break;
      case 'l':
      case 'L':
        if (!readOnly) onToggleLocked(o.id);
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  };

  if (items.length === 0) return <p className="ws-empty small">No objects yet. Choose a label and a tool, then draw on the image.</p>;

  return (
    <>
    <ul className="object-list" ref={listRef} aria-label="Objects, topmost first">
      {items.slice(0, shown).map((o, index) => {
        const isSel = o.id === selectedId;
        const isHidden = hidden.has(o.id);
        const isLocked = locked.has(o.id);
        const plane = planeIndexOf(o);
        const jump = jumpSliceOf(o);
        const kind = o.kind === 'measurement' ? (MEASURE_NAMES[String(o.type)] ?? 'Measurement') : (KIND_NAMES[o.kind] ?? o.kind);
        const value = objectValueText(o);
        const canCopy = !readOnly && isPlaneShape(o) && plane !== undefined && (sliceCount === undefined || plane + 1 < sliceCount);
        return (
          <li key={o.id} data-testid="object-row" data-kind={o.kind} className={`object-row${isSel ? ' selected' : ''}${isHidden ? ' is-hidden' : ''}`} aria-current={isSel ? 'true' : undefined}>
            <button
              type="button"
              className="object-row-main"
              onClick={() => choose(o)}
              onKeyDown={(e) => onRowKey(e, o, index)}
              title={jump !== undefined ? `Select and show ${planeWord.toLowerCase()} ${jump + 1}` : 'Select'}
            >
              <span className="swatch" style={{ background: colorOf(o) }} aria-hidden="true" />
              <span className="object-row-text">
                <span className="object-row-label">{o.label}</span>
                <span className="object-row-meta">
                  {kind}
                  {jump !== undefined ? ` · ${planeWord} ${jump + 1}` : ''}
                  {value ? ` · ${value}` : ''}
                  {isLocked ? ' · locked' : ''}
                </span>
              </span>
            </button>
            <span className="object-actions">
              <button type="button" className="btn btn-ghost btn-sm" aria-pressed={isHidden} aria-label={`${isHidden ? 'Show' : 'Hide'} ${o.label}`} title={isHidden ? 'Show (H)' : 'Hide (H)'} onClick={() => onToggleHidden(o.id)}>
                {isHidden ? 'Show' : 'Hide'}
              </button>
              {!readOnly && (
                <>
                  <button type="button" className="btn btn-ghost btn-sm" aria-pressed={isLocked} aria-label={`${isLocked ? 'Unlock' : 'Lock'} ${o.label}`} title={isLocked ? 'Unlock (L)' : 'Lock (L)'} onClick={() => onToggleLocked(o.id)}>
                    {isLocked ? 'Unlock' : 'Lock'}
                  </button>
                  <button type="button" className="btn btn-ghost btn-sm" aria-label={`Bring ${o.label} forward`} title="Bring forward" disabled={index === 0} onClick={() => move(index, 'forward')}>
                    ↑
                  </button>
                  <button type="button" className="btn btn-ghost btn-sm" aria-label={`Send ${o.label} backward`} title="Send backward" disabled={index === items.length - 1} onClick={() => move(index, 'backward')}>
                    ↓
                  </button>
                  {isPlaneShape(o) && plane !== undefined && (
                    <button type="button" className="btn btn-ghost btn-sm" aria-label={`Copy ${o.label} to the next ${planeWord.toLowerCase()}`} title={`Copy to next ${planeWord.toLowerCase()}`} disabled={!canCopy} onClick={() => copyNext(o)}>
                      Copy →
                    </button>
                  )}
                  <button type="button" className="btn btn-ghost btn-sm object-delete" aria-label={`Delete ${o.label}`} title="Delete (Delete)" disabled={isLocked} onClick={() => remove(o.id)}>
                    Delete
                  </button>
                </>
              )}
            </span>
          </li>
        );
      })}
    </ul>
    {items.length > shown && (
      <button type="button" className="btn btn-sm" style={{ marginTop: 6 }} onClick={() => setLimit(shown + PAGE)} data-testid="objects-more">
        Show {Math.min(PAGE, items.length - shown)} more ({items.length - shown} not listed)
      </button>
    )}
    </>
  );
});
