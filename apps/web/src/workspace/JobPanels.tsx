// Side panels of the classification workspace: the job's asset list and the submit-error banner.
import { useEffect, useRef } from 'react';
import { Link } from 'react-router-dom';
import type { ApiError, FieldError } from '../api';
import type { JobDetail } from '../types';

export function AssetList({ assets, currentId, isDone, onOpen }: { assets: JobDetail['assets']; currentId: string; isDone: (id: string, fallback: boolean) => boolean; onOpen: (id: string) => void }) {
  const ref = useRef<HTMLOListElement>(null);
  useEffect(() => {
    ref.current?.querySelector('[aria-current="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [currentId]);
  return (
    <div style={{ borderTop: '1px solid #0c0e11', maxHeight: '34%', overflow: 'auto', padding: '8px 14px' }}>
      <h3 style={{ fontSize: 11.5, textTransform: 'uppercase', letterSpacing: '0.06em', color: '#8d97a5', margin: '4px 0 6px' }}>Assets in this job</h3>
      <ol ref={ref} style={{ listStyle: 'none', margin: 0, padding: 0 }} data-testid="asset-list">
        {assets.map((a, i) => {
          const done = isDone(a.id, a.annotated);
          const current = a.id === currentId;
          return (
            <li key={a.id}>
              <button
                type="button"
                onClick={() => onOpen(a.id)}
                aria-current={current ? 'true' : undefined}
                tabIndex={-1}
                style={{
                  width: '100%',
                  display: 'flex',
                  gap: 8,
                  alignItems: 'center',
                  padding: '3px 6px',
                  border: 'none',
                  borderRadius: 4,
                  background: current ? '#2b3442' : 'transparent',
                  color: current ? '#fff' : '#b9c2cf',
                  font: 'inherit',
                  fontSize: 12.5,
                  cursor: 'pointer',
                  textAlign: 'left',
                }}
              >
                <span style={{ width: 22, color: '#7d8796', fontVariantNumeric: 'tabular-nums' }}>{i + 1}</span>
                <span style={{ flex: 1, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{a.name}</span>
                <span aria-label={done ? 'labelled' : 'not labelled'} style={{ width: 8, height: 8, borderRadius: '50%', background: done ? '#4cc38a' : 'transparent', border: done ? 'none' : '1px solid #5b6472' }} />
              </button>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

export function SubmitErrors({ error, job, onClose }: { error: ApiError; job: JobDetail; onClose: () => void }) {
  const assetFor = (text: string) => job.assets.find((a) => text.includes(a.id) || text.includes(a.name));
  const items: FieldError[] = error.errors;
  return (
    <div className="ws-banner error" role="alert" data-testid="submit-error">
      <div className="grow">
        <strong>{error.status === 422 ? 'The job cannot be submitted yet.' : 'Submitting failed.'}</strong>{' '}
        {error.status === 422 && items.length > 0
          ? `${items.length} problem${items.length > 1 ? 's' : ''} to fix (as of this attempt):`
          : error.detail}
        {items.length > 0 && (
          <ul data-testid="submit-error-list">
            {items.map((x, i) => {
              const a = (x.assetId && job.assets.find((y) => y.id === x.assetId)) || assetFor(`${x.path} ${x.message}`);
              return (
                <li key={i}>
                  {x.message}
                  {!a && x.path && (
                    <>
                      {' '}
                      <code>{x.path}</code>
                    </>
                  )}
                  {a && (
                    <>
                      {' '}
                      <Link to={`/jobs/${job.id}/assets/${a.id}`}>Open {a.name}</Link>
                    </>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </div>
      <button className="btn btn-sm" onClick={onClose}>
        Dismiss
      </button>
    </div>
  );
}

