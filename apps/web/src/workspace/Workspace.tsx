import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, Navigate, useNavigate, useParams } from 'react-router-dom';
import { api, ApiError, enc, errorMessage } from '../api';
import { useUser } from '../auth';
import { Dialog, ErrorAlert, isTypingTarget, Loading, ProgressBar, useLoad } from '../components/ui';
import { Markdown } from '../components/Markdown';
import { usePageShortcuts, useShortcutHelp, type ShortcutGroup } from '../components/shortcuts';
import type { AttributeValue, Issue, IssueLocation, JobDetail, Project } from '../types';
import { IssuesPanel } from '../review/IssuesPanel';
import { ImagePins, type PinsProps } from '../review/PinLayer';
import { describeLocation } from '../review/pins';
import { isReviewing, NewIssueDialog, ReturnedBanner, ReviewBar } from '../review/ReviewBar';
import { useReview } from '../review/useReview';
import { RaterOverlay } from '../review/raters/RaterOverlay';
import { RATERS_KEY, RatersPanel } from '../review/raters/RatersPanel';
import { useRaters } from '../review/raters/useRaters';
import { AssetViewer, preload } from './AssetViewer';
import { canShowSlices } from '../imaging/SliceViewer';
import { ImagingPane } from '../viewer/ImagingPane';
import { imagingShortcutGroups, keyText } from '../viewer/toolDefs';
import { AssetList, SubmitErrors } from './JobPanels';
import { LabelPanel } from './LabelPanel';
import { syncStore, useEntry, useStoreVersion, type SaveStatus } from './sync';
import { assetTags, clearTags, defaultAttributeValues, missingRequiredFor, setAttribute, tagLabels, toggleLabel } from './tags';

interface WorkspaceData {
  job: JobDetail;
  project: Project;
}

async function loadWorkspace(jobId: string, signal: AbortSignal): Promise<WorkspaceData> {
  const job = await api.get<JobDetail>(`/api/jobs/${enc(jobId)}`, { signal });
  const project = await api.get<Project>(`/api/projects/${enc(job.projectId)}`, { signal });
  return { job, project };
}

/** `/jobs/:jobId` → the first asset not annotated yet (or the first asset). */
export function JobRedirect() {
  const { jobId = '' } = useParams();
  const { data, error } = useLoad((signal) => api.get<JobDetail>(`/api/jobs/${enc(jobId)}`, { signal }), [jobId]);
  if (error)
    return (
      <div className="page">
        <ErrorAlert error={error} />
      </div>
    );
  if (!data) return <Loading label="Opening job…" />;
  const target = data.assets.find((a) => !a.annotated) ?? data.assets[0];
  if (!target)
    return (
      <div className="page page-narrow">
        <div className="card card-body empty">
          <h1>{data.name}</h1>
          <p className="muted">This job has no assets.</p>
          <Link className="btn" to="/queue">
            Back to my queue
          </Link>
        </div>
      </div>
    );
  return <Navigate to={`/jobs/${data.id}/assets/${target.id}`} replace />;
}

const RATERS_SHORTCUTS: ShortcutGroup = {
  title: 'Raters (items with overlap)',
  items: [{ keys: [keyText(RATERS_KEY)], description: 'Show or hide every rater’s objects over the image' }],
};

const REVIEW_SHORTCUTS: ShortcutGroup = {
  title: 'Review',
  items: [
    { keys: ['A'], description: 'Add issue: the next click on the image pins it (Esc cancels)' },
  ],
};

const STATUS_TEXT: Record<SaveStatus, string> = {
  loading: 'Loading…',
  saved: 'Saved',
  pending: 'Saving…',
  saving: 'Saving…',
  offline: 'Offline — will retry',
  conflict: 'Conflict — not saved',
  error: 'Not saved',
};

export function WorkspacePage() {
  const { jobId = '', assetId = '' } = useParams();
  const user = useUser();
  syncStore.setUser(user.id);
  const navigate = useNavigate();
  const { data, error } = useLoad((signal) => loadWorkspace(jobId, signal), [jobId]);
  const entry = useEntry(jobId, assetId);
  useStoreVersion();
  const { setOpen: setHelpOpen } = useShortcutHelp();
  const [showGuidelines, setShowGuidelines] = useState(false);
  const [confirmSubmit, setConfirmSubmit] = useState(false);
  const [submitError, setSubmitError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<'nav' | 'submit' | 'resolve' | null>(null);
  // ---------- review: status, issue threads, pins ----------
  const review = useReview(jobId, entry?.revision ?? 0);
  const [selectedIssue, setSelectedIssue] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [pendingPin, setPendingPin] = useState<IssueLocation | null>(null);
  const [focus, setFocus] = useState<{ location: IssueLocation; nonce: number } | null>(null);
  const canDiscuss = !!review.status?.canDiscuss;

  const job = data?.job;
  const project = data?.project;
  const assets = useMemo(() => job?.assets ?? [], [job]);
  const index = assets.findIndex((a) => a.id === assetId);
  const asset = index >= 0 ? assets[index] : undefined;
  const labels = useMemo(() => tagLabels(project?.labelSchema), [project]);
  // Items with overlap: every rater's objects side by side (reviewers and managers).
  const mayCompare = project?.myRole === 'manager' || project?.myRole === 'reviewer' || project?.myRole === 'admin' || user.systemRole === 'admin';
  const raters = useRaters(jobId, assetId, !!project && mayCompare);

  useEffect(() => {
    if (jobId && assetId) syncStore.ensure(jobId, assetId);
  }, [jobId, assetId]);
  // Back in the workspace (e.g. after signing in again): send whatever is still waiting.
  useEffect(() => syncStore.retryAll(), []);

  useEffect(() => {
    setNotice(null);
    const next = index >= 0 ? assets[index + 1] : undefined;
    preload(next);
    if (next) syncStore.ensure(jobId, next.id);
  }, [assets, index, jobId]);

  // The assignee opening a new job starts it.
  const started = useRef(false);
  useEffect(() => {
    if (job && job.state === 'new' && job.assigneeId === user.id && !started.current) {
      started.current = true;
      void api.patch(`/api/jobs/${enc(job.id)}`, { state: 'in_progress' }).catch(() => undefined);
    }
  }, [job, user.id]);

  const docs = syncStore.docsOfJob(jobId);
  const isDone = (id: string, fallback: boolean) => {
    const s = docs.get(id);
    return s ? s.doc.objects.length > 0 : fallback;
  };
  const annotatedCount = assets.filter((a) => isDone(a.id, a.annotated)).length;
  const otherUnsaved = syncStore.unsavedCount(jobId) - (entry?.dirty ? 1 : 0);

  const tags = entry?.loaded ? assetTags(entry.doc) : [];
  // Saving is allowed to the assignee and to managers; a submitted job is closed for its assignee.
  const isManager = project?.myRole === 'manager' || project?.myRole === 'admin' || user.systemRole === 'admin';
  // The review status is fresher than the job loaded with the page (review start, decisions).
  const jobState = review.status?.state ?? job?.state;
  const jobStage = review.status?.stage ?? job?.stage;
  // A reviewer edits the job under review ("fix" in fix-and-accept); its annotator waits.
  const reviewing = isReviewing(review.status, user.id, isManager);
  const readOnly = !!job && (isManager || reviewing ? false : job.assigneeId !== user.id || jobState === 'completed' || jobStage !== 'annotation');
  const editable = !!entry?.loaded && !readOnly;

  const toggle = useCallback(
    (label: string, add: boolean) => {
      const defaults = defaultAttributeValues(project?.labelSchema.labels.find((l) => l.name === label));
      if (editable) syncStore.edit(jobId, assetId, (doc) => toggleLabel(doc, label, user.id, add, defaults));
    },
    [jobId, assetId, user.id, editable, project],
  );
  const setAttr = useCallback(
    (tagId: string, name: string, value: AttributeValue | undefined) => {
      if (editable) syncStore.edit(jobId, assetId, (doc) => setAttribute(doc, tagId, name, value), `attr:${tagId}:${name}`);
    },
    [jobId, assetId, editable],
  );

  const goTo = useCallback(
    async (targetId: string | undefined) => {
      if (!targetId || targetId === assetId) return;
      setBusy('nav');
      const status = await syncStore.flush(jobId, assetId, 8000);
      setBusy(null);
      if (status === 'conflict') {
        setNotice('Resolve the conflict on this asset before moving on.');
        return;
      }
      if (status === 'error') {
        setNotice('This asset could not be saved. Fix the problem or undo the change before moving on.');
        return;
      }
      navigate(`/jobs/${enc(jobId)}/assets/${enc(targetId)}`);
    },
    [jobId, assetId, navigate],
  );
  const go = (delta: number) => void goTo(assets[index + delta]?.id);
  const goNextOpen = () => {
    const after = [...assets.slice(index + 1), ...assets.slice(0, index)];
    const target = after.find((a) => !isDone(a.id, a.annotated));
    if (target) void goTo(target.id);
    else setNotice('Every asset in this job has a label.');
  };

  const submit = async () => {
    if (!job) return;
    setConfirmSubmit(false);
    setSubmitError(null);
    setBusy('submit');
    try {
      const problems = await syncStore.flushJob(jobId);
      if (problems.length) {
        const names = problems.map((p) => assets.find((a) => a.id === p.assetId)?.name ?? p.assetId).join(', ');
        const offline = problems.every((p) => p.status === 'offline' || p.status === 'pending' || p.status === 'saving');
        setSubmitError(
          new ApiError(
            0,
            offline
              ? `Some changes have not reached the server yet (${names}). They are kept and retried; submit again when you are back online.`
              : `Some assets are not saved (${names}). Resolve them first.`,
          ),
        );
        return;
      }
      await api.patch(`/api/jobs/${enc(job.id)}`, { state: 'completed' });
      navigate('/queue', { state: { notice: `Submitted "${job.name}". Thank you.` } });
    } catch (err) {
      setSubmitError(err instanceof ApiError ? err : new ApiError(0, errorMessage(err)));
    } finally {
      setBusy(null);
    }
  };

  const resolve = async (how: 'theirs' | 'mine') => {
    setBusy('resolve');
    try {
      if (how === 'theirs') await syncStore.loadTheirs(jobId, assetId);
      else await syncStore.keepMine(jobId, assetId);
    } catch (err) {
      setNotice(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  // ---------- keyboard ----------
  const imagingKeys = useRef<((e: KeyboardEvent) => boolean) | null>(null);
  const [imagingSlot, setImagingSlot] = useState<HTMLDivElement | null>(null);
  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keyHandler.current = (e: KeyboardEvent) => {
    if (document.querySelector('[role="dialog"]')) return;
    const typing = isTypingTarget(e.target);
    // Review: A toggles "Add issue" (the next click on the image pins one), Esc leaves it.
    if (!typing && canDiscuss && !e.ctrlKey && !e.metaKey && !e.altKey) {
      if (e.key === 'a') {
        e.preventDefault();
        e.stopPropagation();
        setAdding((a) => !a);
        return;
      }
      if (e.key === 'Escape' && adding) {
        e.preventDefault();
        e.stopPropagation();
        setAdding(false);
        return;
      }
    }
    if (!typing && raters.rows.length > 0 && e.key === RATERS_KEY && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      e.stopPropagation();
      raters.toggleAll();
      return;
    }
    // The imaging viewer's own keys (tools, slices, presets, its undo) come first.
    if (!typing && !(e.key === 'Escape' && showGuidelines) && imagingKeys.current?.(e)) {
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const mod = e.ctrlKey || e.metaKey;
    if (mod && !e.altKey) {
      const k = e.key.toLowerCase();
      if (k === 'z' && !typing) {
        e.preventDefault();
        if (!editable) return;
        if (e.shiftKey) syncStore.redo(jobId, assetId);
        else syncStore.undo(jobId, assetId);
      } else if (k === 'y' && !typing) {
        e.preventDefault();
        if (!editable) return;
        syncStore.redo(jobId, assetId);
      } else if (k === 's') {
        e.preventDefault();
        syncStore.retry(jobId, assetId);
      } else if (k === 'enter') {
        e.preventDefault();
        if (job && jobState !== 'completed' && !readOnly) setConfirmSubmit(true);
      } else if (k === 'g') {
        e.preventDefault();
        setShowGuidelines((s) => !s);
      }
      return;
    }
    if (e.altKey) return;
    if (typing) {
      if (e.key === 'Escape') (e.target as HTMLElement).blur();
      return;
    }
    if (e.key === 'Escape' && showGuidelines) {
      setShowGuidelines(false);
      return;
    }
    if (e.key === 'ArrowRight' || e.key === '.' || e.key === '>') {
      e.preventDefault();
      if (e.shiftKey) goNextOpen();
      else go(1);
      return;
    }
    if (e.key === 'ArrowLeft' || e.key === ',') {
      e.preventDefault();
      go(-1);
      return;
    }
    if (e.key === 'Enter' && (e.target as HTMLElement)?.tagName !== 'BUTTON' && (e.target as HTMLElement)?.tagName !== 'A') {
      const first = document.querySelector<HTMLElement>('[data-testid="attr-form"] select, [data-testid="attr-form"] input');
      if (first) {
        e.preventDefault();
        first.focus();
      }
      return;
    }
    const digit = /^(?:Digit|Numpad)(\d)$/.exec(e.code)?.[1];
    const key = digit ?? (e.key.length === 1 ? e.key.toLowerCase() : null);
    if (!key || !editable) return;
    const match = labels.find((l) => l.key === key);
    if (match) {
      e.preventDefault();
      toggle(match.label.name, e.shiftKey);
      return;
    }
    if (key === '0' || e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      syncStore.edit(jobId, assetId, clearTags);
    }
  };
  useEffect(() => {
    // Capture phase: the workspace sees keys before the app-wide shortcuts (g p, g q...), and
    // a label key it handles (preventDefault) is not also read as one of those.
    const h = (e: KeyboardEvent) => keyHandler.current(e);
    window.addEventListener('keydown', h, true);
    return () => window.removeEventListener('keydown', h, true);
  }, []);

  const shortcutGroups: ShortcutGroup[] = useMemo(
    () => [
      {
        title: 'Labels',
        items: [
          ...labels.filter((l) => l.key).map((l) => ({ keys: [l.key!], description: `Label "${l.label.name}" (press again to remove)` })),
          { keys: ['Shift', '1'], description: 'With Shift, a label key adds that label as an additional label (multi-label)' },
          { keys: ['0'], description: 'Remove all labels from this asset (also Delete)' },
          { keys: ['Enter'], description: 'Go to the attribute form; Esc leaves it' },
        ],
      },
      {
        title: 'Navigation and saving',
        items: [
          { keys: ['→'], description: 'Next asset (saves first; also .)' },
          { keys: ['←'], description: 'Previous asset (also ,)' },
          { keys: ['Shift', '→'], description: 'Next asset without a label' },
          { keys: ['Ctrl', 'Z'], description: 'Undo' },
          { keys: ['Ctrl', 'Shift', 'Z'], description: 'Redo (also Ctrl+Y)' },
          { keys: ['Ctrl', 'S'], description: 'Save now / retry' },
          { keys: ['Ctrl', 'G'], description: 'Show or hide the guidelines' },
          { keys: ['Ctrl', 'Enter'], description: 'Submit the job' },
        ],
      },
    ],
    [labels],
  );
  const imagingMode = !!asset && canShowSlices(asset) && !!project;
  usePageShortcuts([...(imagingMode ? imagingShortcutGroups(project.labelSchema) : shortcutGroups), REVIEW_SHORTCUTS, ...(raters.rows.length > 0 ? [RATERS_SHORTCUTS] : [])]);

  // Show an issue: its asset (saving first), its thread, and its place in the viewer.
  const showIssue = (issue: Issue) => {
    setSelectedIssue(issue.id);
    setFocus({ location: issue.location, nonce: Date.now() });
    if (issue.assetId !== assetId) void goTo(issue.assetId);
  };
  const assetIssues = review.issues.filter((i) => i.assetId === assetId);
  const pins: PinsProps = {
    issues: assetIssues,
    numbers: review.numbers,
    selectedId: selectedIssue,
    adding: adding && canDiscuss,
    onAdd: (location) => {
      setAdding(false);
      setPendingPin(location);
    },
    onOpen: (id) => setSelectedIssue(id),
  };

  if (error)
    return (
      <div className="page">
        <ErrorAlert error={error} />
        <Link to="/queue">Back to my queue</Link>
      </div>
    );
  if (!job || !project) return <Loading label="Opening workspace…" />;
  if (!asset)
    return (
      <div className="page page-narrow">
        <div className="alert alert-error">This asset is not part of the job "{job.name}".</div>
        <p style={{ marginTop: 12 }}>
          <Link to={`/jobs/${job.id}`}>Open the job</Link>
        </p>
      </div>
    );

  const status: SaveStatus = entry?.status ?? 'loading';
  const missing = entry?.loaded ? missingRequiredFor(entry.doc, project.labelSchema) : [];

  return (
    <div className="ws" data-testid="workspace" data-revision={entry?.revision ?? 0}>
      <div className="ws-header">
        <Link to="/queue" className="btn btn-sm" title="Back to my queue">
          Queue
        </Link>
        <div className="ws-title grow">
          <span className="job" data-testid="ws-job-name">
            {job.name}
          </span>
          <span className="asset" data-testid="ws-asset-name" title={asset.name}>
            {asset.name}
          </span>
        </div>
        <div className="ws-progress">
          <span data-testid="ws-position" title="Position in this job">
            {index + 1} / {assets.length}
          </span>
          <ProgressBar value={annotatedCount} max={assets.length} label="Assets labelled" />
          <span className="small" data-testid="ws-annotated">
            {annotatedCount} labelled
          </span>
        </div>
        <span className={`pill pill-${status}`} data-testid="save-status" data-status={status} role="status" aria-live="polite">
          {STATUS_TEXT[status]}
        </span>
        {otherUnsaved > 0 && (
          <span className="small" style={{ color: '#f3c26b' }} title="Changes on other assets are still being sent">
            +{otherUnsaved} syncing
          </span>
        )}
        <div className="row" style={{ flexWrap: 'nowrap' }}>
          <button className="btn btn-sm" onClick={() => go(-1)} disabled={index <= 0 || busy === 'nav'} data-testid="prev-asset" title="Previous asset (←)">
            ← Prev
          </button>
          <button className="btn btn-sm" onClick={() => go(1)} disabled={index >= assets.length - 1 || busy === 'nav'} data-testid="next-asset" title="Next asset (→)">
            Next →
          </button>
          <button className="btn btn-sm" onClick={() => setShowGuidelines((s) => !s)} data-testid="guidelines-button" title="Guidelines (Ctrl+G)">
            Guidelines
          </button>
          <button className="btn btn-sm" onClick={() => setHelpOpen(true)} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">
            ?
          </button>
          <button
            className="btn btn-sm btn-primary"
            onClick={() => setConfirmSubmit(true)}
            disabled={busy === 'submit' || jobState === 'completed' || (readOnly && !isManager)}
            data-testid="submit-job"
            title="Submit job (Ctrl+Enter)"
          >
            {busy === 'submit' ? 'Submitting…' : 'Submit job'}
          </button>
        </div>
      </div>

      {entry?.conflict && (
        <div className="ws-banner conflict" role="alert" data-testid="conflict-banner">
          <div className="grow">
            <strong>This asset was changed elsewhere{entry.conflict.currentRevision !== null ? ` (revision ${entry.conflict.currentRevision})` : ''}.</strong> Your changes are not saved.
            <span className="small"> "Load theirs" discards your changes on this asset; "Keep mine" saves yours over that revision.</span>
          </div>
          <button className="btn btn-sm" onClick={() => void resolve('theirs')} disabled={busy === 'resolve'} data-testid="conflict-load-theirs">
            Load theirs
          </button>
          <button className="btn btn-sm btn-primary" onClick={() => void resolve('mine')} disabled={busy === 'resolve'} data-testid="conflict-keep-mine">
            Keep mine
          </button>
        </div>
      )}
      {entry?.status === 'error' && !entry.conflict && (
        <div className="ws-banner error" role="alert" data-testid="save-error">
          <div className="grow">
            {entry.loadError ? `Could not load the annotations: ${errorMessage(entry.loadError)}` : `Could not save: ${entry.error?.detail ?? 'unknown error'}`}
            {entry.error?.errors.length ? (
              <ul>
                {entry.error.errors.map((x, i) => (
                  <li key={i}>
                    {x.path && <code>{x.path}</code>} {x.message}
                  </li>
                ))}
              </ul>
            ) : null}
            {!entry.loadError && <span className="small"> Your changes are kept in this browser.</span>}
          </div>
          <button className="btn btn-sm" onClick={() => syncStore.retry(jobId, assetId)}>
            Retry
          </button>
        </div>
      )}
      {submitError && <SubmitErrors error={submitError} job={job} onClose={() => setSubmitError(null)} />}
      {notice && (
        <div className="ws-banner info" role="status" data-testid="ws-notice">
          <div className="grow">{notice}</div>
          <button className="btn btn-sm" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}
      <ReviewBar
        review={review}
        userId={user.id}
        isManager={isManager}
        beforeDecide={async () => (await syncStore.flushJob(jobId)).length === 0}
        onDecided={(decision) =>
          navigate('/queue', { state: { notice: decision === 'reject' ? `Returned "${job.name}" to its annotator.` : `Accepted "${job.name}".` } })
        }
      />
      {job.assigneeId === user.id && <ReturnedBanner review={review} onJump={showIssue} assetName={(id) => assets.find((a) => a.id === id)?.name ?? 'asset'} />}
      {jobStage === 'acceptance' ? (
        <div className="ws-banner accepted" data-testid="accepted-banner">
          <div className="grow">
            <strong>Accepted</strong> by the reviewer{review.status?.reviewerName ? ` (${review.status.reviewerName})` : ''}. {isManager ? 'As a manager you can still correct it.' : 'Its annotations are read-only.'}
          </div>
        </div>
      ) : reviewing ? null : readOnly ? (
        <div className="ws-banner info" data-testid="read-only">
          <div className="grow">
            {jobStage === 'review'
              ? 'This job is under review; its annotations are read-only until the reviewer decides.'
              : jobState === 'completed'
                ? 'This job has been submitted; its annotations are read-only.'
                : 'You are viewing this job; only its assignee and project managers can change it.'}
          </div>
        </div>
      ) : (
        jobState === 'completed' && (
          <div className="ws-banner info">
            <div className="grow">This job has been submitted. As a manager you can still correct it.</div>
          </div>
        )
      )}

      <div className="ws-body">
        <div className="ws-viewer" data-testid="viewer">
          {canShowSlices(asset) ? (
            <ImagingPane
              key={asset.id}
              asset={asset}
              jobId={jobId}
              userId={user.id}
              schema={project.labelSchema}
              doc={entry?.loaded ? entry.doc : null}
              editable={editable}
              keyRef={imagingKeys}
              panelSlot={imagingSlot}
              pins={canDiscuss ? pins : undefined}
              focus={focus}
              overlays={raters.rows.length > 0 ? (view) => <RaterOverlay view={view} rows={raters.rows} visible={raters.visible} labelmaps={raters.labelmaps} /> : undefined}
            />
          ) : (
            <>
              <AssetViewer asset={asset} />
              {canDiscuss && asset.modality === 'image' && asset.metadata.width && asset.metadata.height ? (
                <ImagePins {...pins} naturalWidth={asset.metadata.width} naturalHeight={asset.metadata.height} />
              ) : null}
            </>
          )}
        </div>
        <aside className="ws-panel" aria-label="Annotation">
          {asset && canShowSlices(asset) ? (
            <>
              {labels.length > 0 && entry?.loaded && (
                <div className="ws-panel-classify">
                  <LabelPanel labels={labels} schema={project.labelSchema} tags={tags} onToggle={toggle} onAttribute={setAttr} disabled={!editable} />
                </div>
              )}
              <div className="ws-panel-scroll ws-panel-imaging" ref={setImagingSlot} />
            </>
          ) : entry?.loaded ? (
            <LabelPanel labels={labels} schema={project.labelSchema} tags={tags} onToggle={toggle} onAttribute={setAttr} disabled={!editable} />
          ) : (
            <div className="ws-panel-scroll ws-empty">
              <span className="spinner" /> Loading annotations…
            </div>
          )}
          <RatersPanel raters={raters} />
          {canDiscuss && (
            <IssuesPanel
              review={review}
              assetId={asset.id}
              sliceWord={asset.metadata.imaging?.kind === 'cine' ? 'Frame' : 'Slice'}
              selectedId={selectedIssue}
              onSelect={setSelectedIssue}
              adding={adding}
              onToggleAdding={() => setAdding((a) => !a)}
              onJump={showIssue}
            />
          )}
          <AssetList assets={assets} currentId={asset.id} isDone={isDone} onOpen={(id) => void goTo(id)} />
          <div className="ws-panel-footer">
            <span>
              {missing.length > 0 ? (
                <span style={{ color: '#f3c26b' }} data-testid="missing-required">
                  {missing.length} required {missing.length === 1 ? 'attribute' : 'attributes'} empty
                </span>
              ) : entry?.revision ? (
                `Revision ${entry.revision}`
              ) : (
                'Not saved yet'
              )}
            </span>
            <span>
              <kbd>?</kbd> shortcuts
            </span>
          </div>
        </aside>
      </div>

      {showGuidelines && (
        <aside className="guidelines-drawer" aria-label="Guidelines" data-testid="guidelines-drawer">
          <div className="dialog-header">
            <h2>Guidelines · {project.name}</h2>
            <button className="btn btn-sm btn-ghost" onClick={() => setShowGuidelines(false)} style={{ background: 'transparent', color: 'var(--text)', borderColor: 'transparent' }}>
              Close <kbd>Esc</kbd>
            </button>
          </div>
          <div className="dialog-body">{project.guidelines ? <Markdown source={project.guidelines} /> : <p className="muted">This project has no guidelines.</p>}</div>
        </aside>
      )}

      {pendingPin && (
        <NewIssueDialog
          where={describeLocation(pendingPin)}
          onCancel={() => setPendingPin(null)}
          onCreate={async (text) => {
            const issue = await review.createIssue(asset.id, pendingPin, text);
            setPendingPin(null);
            setSelectedIssue(issue.id);
          }}
        />
      )}

      {confirmSubmit && (
        <Dialog
          title="Submit job?"
          onClose={() => setConfirmSubmit(false)}
          testId="submit-dialog"
          footer={
            <>
              <button className="btn btn-ghost" onClick={() => setConfirmSubmit(false)}>
                Keep working
              </button>
              <button className="btn btn-primary" onClick={() => void submit()} data-testid="submit-confirm" autoFocus>
                Submit job
              </button>
            </>
          }
        >
          <p style={{ color: 'var(--text)' }}>
            You labelled <strong>{annotatedCount}</strong> of <strong>{assets.length}</strong> assets in "{job.name}".
          </p>
          {annotatedCount < assets.length && <div className="alert alert-warning">{assets.length - annotatedCount} assets have no label yet.</div>}
          <p className="muted small" style={{ marginTop: 8 }}>
            The server checks that every required attribute is filled in.
          </p>
        </Dialog>
      )}
    </div>
  );
}
