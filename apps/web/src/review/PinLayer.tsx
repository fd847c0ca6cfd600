// Issue pins drawn over the image: small numbered markers at their place, and the "Add issue"
// mode in which the next click on the image pins a new issue there.

import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { Issue, IssueLocation } from '../types';
import { containRect, imagingLocationAt, imagingPinAt, type PinView } from './pins';

export interface PinsProps {
  issues: readonly Issue[];
  numbers: Map<string, number>;
  selectedId: string | null;
  /** The next click pins a new issue (the layer takes the pointer). */
  adding: boolean;
  onAdd(location: IssueLocation, screen: [number, number]): void;
  onOpen(issueId: string): void;
}

function Marker({ issue, n, at, selected, onOpen }: { issue: Issue; n: number; at: [number, number]; selected: boolean; onOpen(id: string): void }) {
  return (
    <button
      type="button"
      className={`issue-pin${issue.state === 'resolved' ? ' resolved' : ''}${selected ? ' selected' : ''}`}
      style={{ left: at[0], top: at[1] }}
      data-testid="issue-pin"
      data-issue-id={issue.id}
      data-x={at[0].toFixed(1)}
      data-y={at[1].toFixed(1)}
      title={`Issue ${n}${issue.state === 'resolved' ? ' (resolved)' : ''}: ${issue.comments[0]?.text ?? ''}`}
      onPointerDown={(e) => e.stopPropagation()}
      onClick={(e) => {
        e.stopPropagation();
        onOpen(issue.id);
      }}
    >
      {n}
    </button>
  );
}

/** Pins on one imaging viewport: shown on the views whose slice contains the pinned voxel. */
export function ViewPins(props: PinsProps & { view: PinView; frames: number }) {
  const { view } = props;
  const onDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (!props.adding || e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    const r = e.currentTarget.getBoundingClientRect();
    const sx = e.clientX - r.left;
    const sy = e.clientY - r.top;
    const loc = imagingLocationAt(view, sx, sy, props.frames);
    if (loc) props.onAdd(loc, [sx, sy]);
  };
  return (
    <div className={`pin-layer${props.adding ? ' adding' : ''}`} onPointerDown={onDown} data-testid="pin-layer">
      {props.issues.map((issue) => {
        const at = imagingPinAt(view, issue.location);
        return at ? <Marker key={issue.id} issue={issue} n={props.numbers.get(issue.id) ?? 0} at={at} selected={props.selectedId === issue.id} onOpen={props.onOpen} /> : null;
      })}
    </div>
  );
}

/**
 * Pins over a 2D image shown with `object-fit: contain` inside the viewer's 12 px inset box
 * (workspace AssetViewer); points are image pixels [x, y].
 */
export function ImagePins(props: PinsProps & { naturalWidth: number; naturalHeight: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize({ w: el.clientWidth, h: el.clientHeight });
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    measure();
    return () => ro.disconnect();
  }, []);
  const rect = containRect(size.w, size.h, props.naturalWidth, props.naturalHeight);
  const scale = rect.width > 0 ? rect.width / props.naturalWidth : 0;
  const onDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (!props.adding || e.button !== 0 || scale === 0) return;
    e.preventDefault();
    const r = e.currentTarget.getBoundingClientRect();
    const sx = e.clientX - r.left;
    const sy = e.clientY - r.top;
    const x = (sx - rect.x) / scale;
    const y = (sy - rect.y) / scale;
    if (x < 0 || y < 0 || x >= props.naturalWidth || y >= props.naturalHeight) return;
    props.onAdd({ point: [Math.round(x * 10) / 10, Math.round(y * 10) / 10] }, [sx, sy]);
  };
  return (
    <div ref={ref} className={`pin-layer pin-layer-2d${props.adding ? ' adding' : ''}`} onPointerDown={onDown} data-testid="pin-layer">
      {scale > 0 &&
        props.issues.map((issue) => {
          const p = issue.location.point;
          if (!p || p.length !== 2) return null;
          const at: [number, number] = [rect.x + p[0]! * scale, rect.y + p[1]! * scale];
          return <Marker key={issue.id} issue={issue} n={props.numbers.get(issue.id) ?? 0} at={at} selected={props.selectedId === issue.id} onOpen={props.onOpen} />;
        })}
    </div>
  );
}
