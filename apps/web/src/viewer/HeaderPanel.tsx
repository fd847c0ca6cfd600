import { Fragment, useEffect, useMemo, useState } from 'react';
import { api, enc, errorMessage } from '../api';

/** One element of the stored, de-identified DICOM header (GET /api/assets/:id/dicom-header). */
export interface DicomHeaderElement {
  tag: string;
  vr: string;
  name: string;
  value: string | null;
  items?: DicomHeaderElement[][];
}

export interface DicomHeader {
  sopInstanceUid: string;
  frame: number;
  instanceFrame: number;
  instanceFrames: number;
  elements: DicomHeaderElement[];
  truncated: boolean;
}

/** Wait this long after the last frame change before asking, so scrolling does not flood the server. */
export const HEADER_DEBOUNCE_MS = 150;

function matches(e: DicomHeaderElement, q: string, compactQ: string): boolean {
  if (e.name.toLowerCase().includes(q) || (e.value ?? '').toLowerCase().includes(q)) return true;
  const tag = e.tag.toLowerCase();
  return tag.includes(q) || (compactQ !== '' && tag.replace(/[(),]/g, '').includes(compactQ));
}

/**
 * The elements matching `query` (tag, with or without punctuation; keyword; value), case-insensitive.
 * A sequence that matches keeps all its items; one that does not is kept, with only its matching
 * descendants, when any descendant matches.
 */
export function filterHeader(elements: DicomHeaderElement[], query: string): DicomHeaderElement[] {
  const q = query.trim().toLowerCase();
  if (q === '') return elements;
  const compactQ = q.replace(/[\s(),]/g, '');
  const walk = (list: DicomHeaderElement[]): DicomHeaderElement[] => {
    const out: DicomHeaderElement[] = [];
    for (const e of list) {
      if (matches(e, q, compactQ)) {
        out.push(e);
        continue;
      }
      if (!e.items) continue;
      const items = e.items.map(walk);
      if (items.some((i) => i.length > 0)) out.push({ ...e, items });
    }
    return out;
  };
  return walk(elements);
}

/** Elements at every depth. */
function countElements(list: DicomHeaderElement[]): number {
  return list.reduce((n, e) => n + 1 + (e.items ?? []).reduce((m, item) => m + countElements(item), 0), 0);
}

interface RowsProps {
  elements: DicomHeaderElement[];
  depth: number;
  path: string;
  collapsed: ReadonlySet<string>;
  forceOpen: boolean;
  toggle: (path: string) => void;
}

function Rows({ elements, depth, path, collapsed, forceOpen, toggle }: RowsProps) {
  return (
    <>
      {elements.map((e, i) => {
        const key = `${path}/${e.tag}#${i}`;
        const open = forceOpen || !collapsed.has(key);
        const indent = { paddingLeft: `${6 + depth * 14}px` };
        return (
          <Fragment key={key}>
            <tr className={e.items ? 'hdr-row hdr-seq' : 'hdr-row'}>
              <td className="hdr-tag" style={indent}>
                {e.items ? (
                  <button type="button" className="hdr-toggle" aria-expanded={open} aria-label={`${open ? 'Collapse' : 'Expand'} ${e.name || e.tag}`} onClick={() => toggle(key)}>
                    {open ? '▾' : '▸'}
                  </button>
                ) : null}
                {e.tag}
              </td>
              <td className="hdr-vr">{e.vr}</td>
              <td className="hdr-name">{e.name || <span className="hdr-unknown">unknown</span>}</td>
              <td className="hdr-value">{e.items ? <span className="hdr-unknown">{`${e.items.length} item${e.items.length === 1 ? '' : 's'}`}</span> : e.value}</td>
            </tr>
            {e.items && open
              ? e.items.map((item, k) => (
                  <Fragment key={`${key}/${k}`}>
                    <tr className="hdr-item">
                      <td colSpan={4} style={{ paddingLeft: `${20 + depth * 14}px` }}>
                        Item {k + 1}
                      </td>
                    </tr>
                    <Rows elements={item} depth={depth + 1} path={`${key}/${k}`} collapsed={collapsed} forceOpen={forceOpen} toggle={toggle} />
                  </Fragment>
                ))
              : null}
          </Fragment>
        );
      })}
    </>
  );
}

/**
 * The de-identified DICOM header of the instance behind the frame being viewed, like OHIF's tag
 * browser: a filter box and a table of tag, VR, keyword and value, sequences nested and collapsible.
 */
export function HeaderPanel({ assetId, frame }: { assetId: string; frame: number }) {
  const [header, setHeader] = useState<DicomHeader | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [query, setQuery] = useState('');
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());

  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    const timer = setTimeout(() => {
      api
        .get<DicomHeader>(`/api/assets/${enc(assetId)}/dicom-header?frame=${frame}`, { signal: ctrl.signal })
        .then((h) => {
          setHeader(h);
          setError(null);
          setLoading(false);
        })
        .catch((err: unknown) => {
          if (ctrl.signal.aborted) return;
          setHeader(null);
          setError(errorMessage(err));
          setLoading(false);
        });
    }, HEADER_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [assetId, frame]);

  const shown = useMemo(() => (header ? filterHeader(header.elements, query) : []), [header, query]);
  const filtering = query.trim() !== '';
  const toggle = (path: string) =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  return (
    <section className="hdr-panel" data-testid="dicom-header" aria-busy={loading}>
      <div className="hdr-bar">
        <input
          type="search"
          className="hdr-filter"
          data-testid="dicom-header-filter"
          placeholder="Filter by tag, name or value"
          aria-label="Filter DICOM elements"
          value={query}
          onChange={(ev) => setQuery(ev.target.value)}
        />
        {loading ? <span className="hdr-status">Loading…</span> : null}
      </div>
      {header ? (
        <p className="hdr-meta">
          Frame {header.frame + 1}
          {header.instanceFrames > 1 ? ` · frame ${header.instanceFrame + 1} of ${header.instanceFrames} in the instance` : ''}
          {' · '}
          {filtering ? `${countElements(shown)} of ${countElements(header.elements)} elements` : `${countElements(header.elements)} elements`}
          {header.truncated ? ' (listing cut short)' : ''}
        </p>
      ) : null}
      {error ? (
        <p className="hdr-error" role="alert">
          {error}
        </p>
      ) : null}
      {header ? (
        shown.length === 0 ? (
          <p className="hdr-empty">No element matches “{query.trim()}”.</p>
        ) : (
          <div className="hdr-scroll">
            <table className="hdr-table">
              <thead>
                <tr>
                  <th>Tag</th>
                  <th>VR</th>
                  <th>Name</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                <Rows elements={shown} depth={0} path="" collapsed={collapsed} forceOpen={filtering} toggle={toggle} />
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}
