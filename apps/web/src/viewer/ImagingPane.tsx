// The imaging side of the workspace page: the viewer with its annotation layers (2D shapes,
// measurements and landmarks; the 3D label map) and the side panel (objects, segments, tags,
// DICOM header). Document edits go through the page's sync store (autosaved, conflict-checked);
// label-map strokes go through the segmentation session, which uploads compact patches and
// then puts the new blob into the document. One combined undo history covers both.

import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import type { AnnotationDocument, AnyObject, Asset, IssueLocation, LabelSchema } from '../types';
import { ViewPins, type PinsProps } from '../review/PinLayer';
import { imagingOf } from '../imaging/SliceViewer';
import { syncStore, type SaveStatus } from '../workspace/sync';
import { uuid } from '../workspace/tags';
import { ImagingViewer, type ImagingViewApi } from './ImagingWorkspace';
import { drawLabels, keyText, SEG_TOOL_DEFS, SHAPE_TOOL_DEFS } from './toolDefs';
import { ToolLayer, type ToolLayerHandle } from './tools/ToolLayer';
import { TOOL_KIND, type ToolId } from './tools/model';
import { ObjectList } from './ObjectList';
import { SegLayer } from './seg/SegLayer';
import { SegmentPanel } from './seg/SegmentPanel';
import { SegSession } from './seg/session';
import { adjustRadius, DEFAULT_SEG_SETTINGS, type SegSettings, type SegTool } from './seg/settings';
import { HeaderPanel } from './HeaderPanel';
import { LandmarkTable, ObjectAttributes, ScopedTags } from './ImagingPanels';
import type { EditObjects, ViewTransform } from './types';

export interface ImagingPaneProps {
  asset: Asset;
  jobId: string;
  userId: string;
  schema: LabelSchema;
  doc: AnnotationDocument | null;
  editable: boolean;
  keyRef: React.MutableRefObject<((e: KeyboardEvent) => boolean) | null>;
  /** Element in the page's side panel to render the imaging panels into. */
  panelSlot: HTMLElement | null;
  /** Review issues pinned on this asset, drawn on every view whose slice holds them. */
  pins?: PinsProps;
  /** Show this place (an issue's slice / voxel) once per nonce. */
  focus?: { location: IssueLocation; nonce: number } | null;
  /** Read-only layers drawn under the editable objects of each view (e.g. other raters' objects). */
  overlays?: (view: ViewTransform) => ReactNode;
}

type Mode = { kind: 'nav' } | { kind: 'shape'; tool: ToolId } | { kind: 'seg'; tool: SegTool };
type Tab = 'objects' | 'segments' | 'tags' | 'header';

export function ImagingPane(props: ImagingPaneProps) {
  const { asset, jobId, schema, editable } = props;
  const meta = imagingOf(asset)!;
  const frames = asset.frameCount ?? meta.dims[2];
  const [api, setApi] = useState<ImagingViewApi | null>(null);
  const [mode, setMode] = useState<Mode>({ kind: 'nav' });
  const [tab, setTab] = useState<Tab>('objects');
  const labels = useMemo(() => drawLabels(schema), [schema]);
  const [activeLabel, setActiveLabel] = useState<string | null>(() => labels.find((l) => !l.kinds.includes('labelmap') || l.kinds.length > 1)?.name ?? labels[0]?.name ?? null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [locked, setLocked] = useState<ReadonlySet<string>>(new Set());
  const [jumpTo, setJumpTo] = useState<{ slice: number; nonce: number } | null>(null);
  const [segSettings, setSegSettings] = useState<SegSettings>(DEFAULT_SEG_SETTINGS);
  const [message, setMessage] = useState<string | null>(null);
  const toolLayers = useRef(new Map<string, ToolLayerHandle | null>());
  const objects: AnyObject[] = useMemo(() => props.doc?.objects ?? [], [props.doc]);
  const sliceWord = meta.kind === 'cine' ? 'Frame' : 'Slice';
  const planeField = meta.kind === 'cine' ? 'frame' : frames > 1 ? 'slice' : null;

  // ---------- combined undo history (document edits and label-map strokes) ----------
  const history = useRef<{ undo: ('doc' | 'seg')[]; redo: ('doc' | 'seg')[] }>({ undo: [], redo: [] });
  const onEdit: EditObjects = useCallback(
    (update, coalesce) => {
      if (!editable) return;
      let changed = false;
      syncStore.edit(
        jobId,
        asset.id,
        (doc) => {
          const next = update(doc.objects);
          if (next === doc.objects) return doc;
          changed = true;
          return { ...doc, objects: next };
        },
        coalesce,
      );
      if (changed) {
        const h = history.current;
        // A coalesced edit (a drag in progress) is one step in the store; count it once here too.
        if (!(coalesce && lastCoalesce.current === coalesce && h.undo[h.undo.length - 1] === 'doc')) h.undo.push('doc');
        lastCoalesce.current = coalesce ?? null;
        h.redo = [];
      }
    },
    [jobId, asset.id, editable],
  );
  const lastCoalesce = useRef<string | null>(null);

  // ---------- segmentation session ----------
  const segLabels = useMemo(() => schema.labels.filter((l) => l.kinds.includes('labelmap')), [schema]);
  const [session, setSession] = useState<SegSession | null>(null);
  const [segError, setSegError] = useState<string | null>(null);
  const [activeSegment, setActiveSegment] = useState(1);
  const docLoaded = props.doc !== null;
  const labelmapObject = objects.find((o) => o.kind === 'labelmap');
  const openedFor = useRef<string | null>(null);
  // The label map (a volume-sized array, maybe a download) opens after the first slice is on
  // screen, so it does not compete with it.
  const [imageShown, setImageShown] = useState(false);
  const volumeOfApi = api?.volume ?? null;
  useEffect(() => {
    if (!volumeOfApi) return;
    if (volumeOfApi.loadedCount > 0) {
      setImageShown(true);
      return;
    }
    return volumeOfApi.subscribe(() => {
      if (volumeOfApi.loadedCount > 0) setImageShown(true);
    });
  }, [volumeOfApi]);
  useEffect(() => {
    if (!docLoaded || !imageShown || segLabels.length === 0 || meta.samples !== 1 || openedFor.current === asset.id) return;
    openedFor.current = asset.id;
    let live = true;
    let opened: SegSession | null = null;
    const existing = labelmapObject
      ? { blob: String(labelmapObject.blob), shape: labelmapObject.shape as [number, number, number], segments: labelmapObject.segments as { value: number; label: string }[] }
      : null;
    SegSession.open(asset.id, [meta.dims[0], meta.dims[1], frames], meta.spacing, existing, {
      labels: schema.labels,
      affineLps: meta.affineLps,
      onSaved: (saved) => {
        // The new blob goes into the document as bookkeeping, not as an undo step of its own.
        syncStore.edit(
          jobId,
          asset.id,
          (doc) => {
            const now = new Date().toISOString();
            const current = doc.objects.find((o) => o.kind === 'labelmap');
            if (saved.segments.length === 0) return current ? { ...doc, objects: doc.objects.filter((o) => o !== current) } : doc;
            const geometry = { blob: saved.sha, shape: saved.shape, segments: saved.segments };
            if (current) return { ...doc, objects: doc.objects.map((o) => (o === current ? { ...o, ...geometry, label: saved.segments[0]!.label, updatedAt: now } : o)) };
            const obj: AnyObject = { id: uuid(), kind: 'labelmap', label: saved.segments[0]!.label, attributes: {}, source: 'manual', createdBy: props.userId, createdAt: now, updatedAt: now, ...geometry };
            return { ...doc, objects: [...doc.objects, obj] };
          },
          undefined,
          { undoable: false },
        );
      },
    })
      .then((s) => {
        if (!live) {
          s.dispose();
          return;
        }
        opened = s;
        s.onEdit(() => {
          history.current.undo.push('seg');
          history.current.redo = [];
        });
        setSession(s);
        setActiveSegment(s.segments[0]?.value ?? 1);
      })
      .catch((err: unknown) => {
        if (live) setSegError(err instanceof Error ? err.message : String(err));
      });
    return () => {
      live = false;
      openedFor.current = null;
      opened?.dispose();
      setSession(null);
    };
    // Opened once per asset when the document has loaded; later document changes come from the session itself.
  }, [docLoaded, imageShown, asset.id]);

  // The label map must reach the server before the document that references it.
  useEffect(() => {
    if (!session) return;
    const offFlush = syncStore.addFlushHook(jobId, asset.id, async (): Promise<SaveStatus> => {
      const state = await session.saver.flush();
      return state === 'saved' ? 'saved' : state === 'offline' ? 'offline' : state === 'error' ? 'error' : 'pending';
    });
    const offUnsaved = syncStore.addUnsavedCheck(() => session.saver.state !== 'saved');
    return () => {
      offFlush();
      offUnsaved();
    };
  }, [session, jobId, asset.id]);

  const undo = useCallback((): boolean => {
    const h = history.current;
    if (session?.inStroke) return true;
    while (h.undo.length) {
      const what = h.undo.pop()!;
      const ok = what === 'seg' ? (session?.undo() ?? false) : syncStore.undo(jobId, asset.id);
      if (ok) {
        h.redo.push(what);
        return true;
      }
    }
    // Nothing of ours left: older document history (e.g. tags set before this visit).
    return syncStore.undo(jobId, asset.id);
  }, [session, jobId, asset.id]);
  const redo = useCallback((): boolean => {
    const h = history.current;
    if (session?.inStroke) return true;
    while (h.redo.length) {
      const what = h.redo.pop()!;
      const ok = what === 'seg' ? (session?.redo() ?? false) : syncStore.redo(jobId, asset.id);
      if (ok) {
        h.undo.push(what);
        return true;
      }
    }
    return syncStore.redo(jobId, asset.id);
  }, [session, jobId, asset.id]);

  // ---------- tools and keys ----------
  const label = labels.find((l) => l.name === activeLabel) ?? null;
  const chooseShape = (tool: ToolId) => {
    setMode({ kind: 'shape', tool });
    const kind = TOOL_KIND[tool];
    if (kind && label && !label.kinds.includes(kind)) {
      const fit = labels.find((l) => l.kinds.includes(kind));
      if (fit) setActiveLabel(fit.name);
    }
  };
  const chooseSeg = (tool: SegTool) => {
    setMode({ kind: 'seg', tool });
    setTab('segments');
  };
  const viewerKeys = useRef<((e: KeyboardEvent) => boolean) | null>(null);
  useEffect(() => {
    props.keyRef.current = (e: KeyboardEvent): boolean => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.altKey) {
        const k = e.key.toLowerCase();
        if (k === 'z') {
          if (editable) {
            if (e.shiftKey) redo();
            else undo();
          }
          return true;
        }
        if (k === 'y') {
          if (editable) redo();
          return true;
        }
        // Save now: the label map first; the page then saves the document.
        if (k === 's') void session?.saver.flush();
        return false;
      }
      if (e.altKey) return false;
      const layer = [...toolLayers.current.values()].find(Boolean);
      if (e.key === 'Escape') {
        if (mode.kind === 'shape' && layer?.handleKey('Escape')) return true;
        setMode({ kind: 'nav' });
        return true;
      }
      if (mode.kind === 'shape' && (e.key === 'Enter' || e.key === 'Backspace' || e.key === 'Delete')) {
        if (layer?.handleKey(e.key)) return true;
      }
      if ((e.key === 'Delete' || e.key === 'Backspace') && selectedId && editable && !locked.has(selectedId)) {
        onEdit((list) => list.filter((o) => o.id !== selectedId));
        setSelectedId(null);
        return true;
      }
      if (e.key === '[' || e.key === ']') {
        setSegSettings((s) => ({ ...s, radiusMm: adjustRadius(s.radiusMm, e.key === ']' ? 1 : -1) }));
        return true;
      }
      const digit = /^(?:Digit|Numpad)(\d)$/.exec(e.code)?.[1];
      if (digit && !e.shiftKey) {
        // A key that is some label's shortcut belongs to that label (a tag-only label is then
        // toggled by the page); other digits pick drawable labels by position.
        const owner = schema.labels.find((l) => l.shortcut === digit);
        const target = owner ? (labels.includes(owner) ? owner : undefined) : labels[Number(digit) - 1];
        if (target) {
          setActiveLabel(target.name);
          if (target.kinds.includes('labelmap') && session) {
            const seg = session.segments.find((s) => s.label === target.name);
            if (seg) setActiveSegment(seg.value);
          }
          return true;
        }
      }
      if (e.key.length === 1 && !e.shiftKey) {
        const byLetter = labels.find((l) => l.shortcut === e.key.toLowerCase() && !/\d/.test(e.key));
        if (byLetter) {
          setActiveLabel(byLetter.name);
          return true;
        }
      }
      const shape = SHAPE_TOOL_DEFS.find((t) => t.key === e.key);
      if (shape) {
        chooseShape(shape.id as ToolId);
        return true;
      }
      const seg = SEG_TOOL_DEFS.find((t) => t.key === e.key);
      if (seg && session) {
        chooseSeg(seg.id as SegTool);
        return true;
      }
      return viewerKeys.current?.(e) ?? false;
    };
    return () => {
      props.keyRef.current = null;
    };
  });

  const sample = useCallback((i: number, j: number, k: number) => api?.volume.value(i, j, k), [api]);
  const annotating = mode.kind !== 'nav' && editable;
  const overlay = (view: Parameters<NonNullable<React.ComponentProps<typeof ImagingViewer>['overlay']>>[0]): ReactNode => (
    <>
      {session && api && (
        <SegLayer
          view={view}
          session={session}
          volume={api.volume}
          tool={mode.kind === 'seg' && editable ? mode.tool : null}
          settings={segSettings}
          activeSegment={activeSegment}
          editable={editable}
          onMessage={setMessage}
        />
      )}
      {props.overlays?.(view)}
      <div className="tool-layer-wrap" style={{ pointerEvents: mode.kind === 'seg' ? 'none' : undefined }}>
      <ToolLayer
        ref={(h: ToolLayerHandle | null) => {
          toolLayers.current.set(view.mapping.axis, h);
        }}
        view={view}
        objects={objects}
        tool={mode.kind === 'shape' && editable ? mode.tool : 'select'}
        label={label}
        labels={schema.labels}
        selectedId={selectedId}
        onSelect={setSelectedId}
        hidden={hidden}
        locked={editable ? locked : new Set(objects.map((o) => o.id))}
        onEdit={onEdit}
        userId={props.userId}
        affine={meta.affineLps}
        planeField={planeField}
        sample={sample}
        valueUnit={meta.modality === 'CT' ? 'HU' : ''}
      />
      </div>
      {props.pins && <ViewPins view={view} frames={frames} {...props.pins} />}
    </>
  );

  const toolbar = (
    <>
      <div className="tb-group" aria-label="Annotation tools" data-testid="shape-tools">
        {SHAPE_TOOL_DEFS.map((t) => (
          <button
            key={t.id}
            className={`tb-btn${mode.kind === 'shape' && mode.tool === t.id ? ' on' : ''}`}
            aria-pressed={mode.kind === 'shape' && mode.tool === t.id}
            title={`${t.title} (${keyText(t.key)})`}
            data-testid={`tool-${t.id}`}
            disabled={!editable}
            onClick={() => chooseShape(t.id as ToolId)}
          >
            {t.text}
          </button>
        ))}
      </div>
      {session && (
        <div className="tb-group" aria-label="Segmentation tools" data-testid="seg-tools">
          {SEG_TOOL_DEFS.map((t) => (
            <button
              key={t.id}
              className={`tb-btn${mode.kind === 'seg' && mode.tool === t.id ? ' on' : ''}`}
              aria-pressed={mode.kind === 'seg' && mode.tool === t.id}
              title={`${t.title} (${keyText(t.key)})`}
              data-testid={`segtool-${t.id}`}
              disabled={!editable}
              onClick={() => chooseSeg(t.id as SegTool)}
            >
              {t.text}
            </button>
          ))}
        </div>
      )}
      <div className="tb-group" aria-label="Active label">
        <select className="tb-select" aria-label="Active label" data-testid="active-label" value={activeLabel ?? ''} onChange={(e) => setActiveLabel(e.target.value || null)}>
          {labels.map((l, i) => (
            <option key={l.name} value={l.name}>
              {`${l.shortcut ?? i + 1} · ${l.name}`}
            </option>
          ))}
        </select>
        {label && <span className="tb-swatch" style={{ background: label.color }} aria-hidden />}
      </div>
    </>
  );

  const axialSlice = api ? api.cursor[2] : 0;
  const jump = useCallback((s: number) => setJumpTo({ slice: s, nonce: Date.now() }), []);
  // An issue to show: centre every view on its voxel (or go to its slice).
  const focusedNonce = useRef<number | null>(null);
  useEffect(() => {
    const f = props.focus;
    if (!f || !api || focusedNonce.current === f.nonce) return;
    focusedNonce.current = f.nonce;
    const p = f.location.point;
    const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, Math.round(v)));
    if (p && p.length === 3) api.setCursor([clamp(p[0]!, meta.dims[0]), clamp(p[1]!, meta.dims[1]), clamp(p[2]!, frames)]);
    else if (f.location.slice !== undefined) jump(f.location.slice);
    else if (f.location.frame !== undefined) jump(f.location.frame);
  }, [props.focus, api, jump, meta.dims, frames]);
  const toggleHidden = useCallback((id: string) => setHidden((h) => toggled(h, id)), []);
  const toggleLocked = useCallback((id: string) => setLocked((h) => toggled(h, id)), []);
  const selected = selectedId ? objects.find((o) => o.id === selectedId) : undefined;
  const panel = (
    <div className="imaging-panel" data-testid="imaging-panel">
      <div className="imaging-tabs" role="tablist">
        {(
          [
            ['objects', `Objects (${objects.filter((o) => o.kind !== 'labelmap' && o.kind !== 'tag').length})`],
            ['segments', 'Segments'],
            ['tags', 'Tags'],
            ['header', 'Header'],
          ] as [Tab, string][]
        )
          .filter(([t]) => t !== 'header' || meta.source === 'dicom')
          .map(([t, text]) => (
            <button key={t} role="tab" aria-selected={tab === t} className={`imaging-tab${tab === t ? ' on' : ''}`} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
              {text}
            </button>
          ))}
      </div>
      <div className="imaging-tab-body">
        {tab === 'objects' && (
          <>
            <ObjectList
              objects={objects}
              labels={schema.labels}
              selectedId={selectedId}
              onSelect={setSelectedId}
              onJump={jump}
              hidden={hidden}
              locked={locked}
              onToggleHidden={toggleHidden}
              onToggleLocked={toggleLocked}
              onEdit={onEdit}
              userId={props.userId}
              sliceCount={frames}
              planeWord={sliceWord}
              readOnly={!editable}
            />
            {selected && (
              <div className="selected-attrs">
                {selected.kind === 'landmarks' && (
                  <>
                    <h3>Landmarks · {selected.label}</h3>
                    <LandmarkTable object={selected} affine={meta.affineLps} onJump={(s) => setJumpTo({ slice: s, nonce: Date.now() })} />
                  </>
                )}
                <h3>Attributes · {selected.label}</h3>
                <ObjectAttributes schema={schema} object={selected} editable={editable && !locked.has(selected.id)} onEdit={onEdit} />
              </div>
            )}
          </>
        )}
        {tab === 'segments' &&
          (session ? (
            <>
              {session.droppedLabels.length > 0 && <div className="alert alert-warning small">Not in the schema any more: {session.droppedLabels.join(', ')}</div>}
              <SegmentPanel
                session={session}
                activeSegment={activeSegment}
                onActiveSegment={setActiveSegment}
                settings={segSettings}
                onSettings={setSegSettings}
                modality={meta.modality}
                editable={editable}
              />
            </>
          ) : (
            <p className="ws-empty small">
              {segError ?? (segLabels.length === 0 ? 'No label in this project allows the kind "labelmap".' : meta.samples !== 1 ? 'Colour images cannot hold a label map.' : 'Opening the label map…')}
            </p>
          ))}
        {tab === 'tags' && (
          <ScopedTags
            schema={schema}
            objects={objects}
            slice={axialSlice}
            sliceScope={meta.kind === 'cine' ? 'frame' : 'slice'}
            userId={props.userId}
            editable={editable}
            onEdit={onEdit}
            onJump={(s) => setJumpTo({ slice: s, nonce: Date.now() })}
          />
        )}
        {tab === 'header' && meta.source === 'dicom' && <HeaderPanel assetId={asset.id} frame={axialSlice} />}
      </div>
      {message && (
        <div className="imaging-message small" role="status" data-testid="imaging-message">
          {message}
          <button className="link-btn" onClick={() => setMessage(null)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
    </div>
  );

  return (
    <div className="imaging-pane">
      <ImagingViewer
        asset={asset}
        meta={meta}
        frames={frames}
        annotating={annotating}
        keyRef={viewerKeys}
        onApi={setApi}
        jumpTo={jumpTo}
        overlay={overlay}
        toolbar={toolbar}
      />
      {props.panelSlot && createPortal(panel, props.panelSlot)}
    </div>
  );
}

function toggled(set: ReadonlySet<string>, id: string): ReadonlySet<string> {
  const next = new Set(set);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}
