import { useEffect, useState } from 'react';
import { enc } from '../api';
import type { Asset } from '../types';
import { canShowSlices, loadFrame } from '../imaging/SliceViewer';

const textCache = new Map<string, string>();

export function mediaUrl(assetId: string): string {
  return `/api/assets/${enc(assetId)}/media`;
}

export function AssetViewer({ asset }: { asset: Asset }) {
  if (asset.modality === 'text' || asset.mediaType.startsWith('text/')) return <TextViewer asset={asset} />;
  return <ImageViewer asset={asset} />;
}

function ImageViewer({ asset }: { asset: Asset }) {
  const [state, setState] = useState<'loading' | 'ok' | 'error'>('loading');
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  useEffect(() => {
    setState('loading');
    setNatural(null);
  }, [asset.id]);
  return (
    <>
      <div style={{ position: 'absolute', inset: 12 }}>
        <img
          key={asset.id}
          src={mediaUrl(asset.id)}
          alt={asset.name}
          data-testid="asset-image"
          draggable={false}
          style={{ width: '100%', height: '100%', objectFit: 'contain', maxWidth: 'none', maxHeight: 'none', opacity: state === 'ok' ? 1 : 0 }}
          onLoad={(e) => {
            setState('ok');
            setNatural({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight });
          }}
          onError={() => setState('error')}
        />
      </div>
      {state === 'loading' && (
        <div className="ws-empty" role="status">
          <span className="spinner" /> Loading image…
        </div>
      )}
      {state === 'error' && (
        <div className="ws-empty" role="alert">
          This image could not be displayed.
        </div>
      )}
      <div className="viewer-meta">
        {natural ? `${natural.w} × ${natural.h} px` : asset.metadata.width ? `${asset.metadata.width} × ${asset.metadata.height} px` : ''}
        {asset.metadata.bitDepth ? ` · ${asset.metadata.bitDepth}-bit` : ''} · {asset.mediaType}
      </div>
    </>
  );
}

function TextViewer({ asset }: { asset: Asset }) {
  const [text, setText] = useState<string | null>(() => textCache.get(asset.id) ?? null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const cached = textCache.get(asset.id);
    setText(cached ?? null);
    setError(null);
    if (cached !== undefined) return;
    const ctrl = new AbortController();
    fetch(mediaUrl(asset.id), { credentials: 'same-origin', signal: ctrl.signal })
      .then(async (res) => {
        if (!res.ok) throw new Error(`The document could not be loaded (HTTP ${res.status}).`);
        const t = await res.text();
        textCache.set(asset.id, t);
        setText(t);
      })
      .catch((err: unknown) => {
        if (!ctrl.signal.aborted) setError(err instanceof Error ? err.message : String(err));
      });
    return () => ctrl.abort();
  }, [asset.id]);
  if (error)
    return (
      <div className="ws-empty" role="alert">
        {error}
      </div>
    );
  if (text === null)
    return (
      <div className="ws-empty" role="status">
        <span className="spinner" /> Loading document…
      </div>
    );
  return (
    <div className="ws-text">
      <pre data-testid="asset-text" tabIndex={0} aria-label={`Text of ${asset.name}`}>
        {text}
      </pre>
    </div>
  );
}

/** Warms the browser cache for the next asset so moving on feels instant. */
export function preload(asset: Asset | undefined): void {
  if (!asset) return;
  if (canShowSlices(asset)) {
    const meta = asset.metadata.imaging!;
    void loadFrame(asset.id, Math.floor((asset.frameCount ?? 1) / 2), meta).catch(() => undefined);
    return;
  }
  if (asset.modality === 'image') {
    const img = new Image();
    img.src = mediaUrl(asset.id);
  }
}
