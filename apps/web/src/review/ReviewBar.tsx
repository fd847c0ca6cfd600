// Review controls in the workspace: for reviewers and managers, start the review of a completed
// job, then Accept / Fix & accept / Reject; for the annotator of a returned job, the banner with
// the open issues (a click jumps to the issue's place).

import { useState } from 'react';
import { errorMessage } from '../api';
import { Dialog } from '../components/ui';
import type { Issue, ReviewStatus } from '../types';
import { describeLocation } from './pins';
import type { Decision, ReviewModel } from './useReview';

export interface ReviewBarProps {
  review: ReviewModel;
  userId: string;
  /** Project managers (and admins) may take over a review held by someone else. */
  isManager: boolean;
  /** Flush unsaved edits before deciding; false when something could not be saved. */
  beforeDecide(): Promise<boolean>;
  onDecided(decision: Decision, status: ReviewStatus): void;
}

/** Whether the caller is the one reviewing this job now (or a manager acting on the review). */
export function isReviewing(status: ReviewStatus | null, userId: string, isManager: boolean): boolean {
  return !!status && status.stage === 'review' && status.canReview && (status.reviewerId === userId || isManager);
}

export function ReviewBar({ review, userId, isManager, beforeDecide, onDecided }: ReviewBarProps) {
  const { status } = review;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [comment, setComment] = useState('');
  if (!status || !status.canReview) return null;

  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const decide = (decision: Decision, text?: string) =>
    act(async () => {
      if (!(await beforeDecide())) {
        setError('Some changes are not saved yet; save them before deciding.');
        return;
      }
      const s = await review.decide(decision, text);
      setRejecting(false);
      onDecided(decision, s);
    });

  if (status.awaitingReview || (status.stage === 'review' && !isReviewing(status, userId, isManager))) {
    return (
      <div className="ws-banner review-bar" data-testid="review-bar" data-stage={status.stage}>
        <div className="grow">
          {status.awaitingReview ? (
            <>
              <strong>Awaiting review</strong>
              {status.round > 0 ? ` · round ${status.round + 1}` : ''}
            </>
          ) : (
            <>Under review by {status.reviewerName ?? 'another reviewer'}.</>
          )}
          {error && <span className="review-error"> {error}</span>}
        </div>
        {(status.awaitingReview || isManager) && (
          <button className="btn btn-sm btn-primary" disabled={busy} onClick={() => void act(async () => void (await review.start()))} data-testid="review-start">
            {status.awaitingReview ? 'Start review' : 'Take over review'}
          </button>
        )}
      </div>
    );
  }
  if (!isReviewing(status, userId, isManager)) return null;

  const needComment = status.openIssues === 0;
  return (
    <div className="ws-banner review-bar" data-testid="review-bar" data-stage="review">
      <div className="grow">
        <strong>Reviewing</strong> · round {status.round + 1} · {status.openIssues} open {status.openIssues === 1 ? 'issue' : 'issues'}
        {status.changedByReviewer ? ' · you changed annotations' : ''}
        {error && <span className="review-error"> {error}</span>}
      </div>
      <button className="btn btn-sm review-accept" disabled={busy} onClick={() => void decide('accept')} data-testid="review-accept">
        Accept
      </button>
      <button
        className="btn btn-sm"
        disabled={busy || !status.changedByReviewer}
        onClick={() => void decide('fix-accept')}
        data-testid="review-fix-accept"
        title={status.changedByReviewer ? 'Accept with your corrections' : 'Enabled once you change an annotation'}
      >
        Fix &amp; accept
      </button>
      <button className="btn btn-sm review-reject" disabled={busy} onClick={() => setRejecting(true)} data-testid="review-reject">
        Reject
      </button>
      {rejecting && (
        <Dialog
          title="Return the job to its annotator?"
          onClose={() => setRejecting(false)}
          testId="reject-dialog"
          footer={
            <>
              <button className="btn btn-ghost" onClick={() => setRejecting(false)}>
                Cancel
              </button>
              <button className="btn btn-danger" disabled={busy || (needComment && !comment.trim())} onClick={() => void decide('reject', comment.trim() || undefined)} data-testid="reject-confirm">
                Reject
              </button>
            </>
          }
        >
          <p>
            {needComment
              ? 'No issue is open. Say what the annotator should change; your comment becomes an issue on the first asset.'
              : `The annotator sees the ${status.openIssues} open ${status.openIssues === 1 ? 'issue' : 'issues'}. You may add a general comment.`}
          </p>
          <textarea className="textarea" rows={4} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={5000} aria-label="Comment" data-testid="reject-comment" autoFocus />
          {error && <div className="alert alert-error small">{error}</div>}
        </Dialog>
      )}
    </div>
  );
}

/** The annotator's banner on a job the reviewer returned: the open issues, each a jump link. */
export function ReturnedBanner({ review, onJump, assetName }: { review: ReviewModel; onJump(issue: Issue): void; assetName(id: string): string }) {
  const { status, issues, numbers } = review;
  if (!status || status.state !== 'rejected' || status.stage !== 'annotation') return null;
  const open = issues.filter((i) => i.state === 'open').sort((a, b) => (numbers.get(a.id) ?? 0) - (numbers.get(b.id) ?? 0));
  return (
    <div className="ws-banner returned" role="status" data-testid="returned-banner">
      <div className="grow">
        <strong>
          Returned by the reviewer: {open.length} open {open.length === 1 ? 'issue' : 'issues'}
        </strong>
        {open.length > 0 && (
          <ul className="returned-list">
            {open.map((i) => (
              <li key={i.id}>
                <button type="button" className="link-btn" onClick={() => onJump(i)} data-testid="returned-issue" data-issue-id={i.id}>
                  #{numbers.get(i.id)} {assetName(i.assetId)} · {describeLocation(i.location)}
                </button>
                <span className="returned-text"> — {i.comments[0]?.text}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

/** Asks for the first comment of a new issue pinned at `where`. */
export function NewIssueDialog({ where, onCancel, onCreate }: { where: string; onCancel(): void; onCreate(text: string): Promise<void> }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await onCreate(text.trim());
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="New issue"
      onClose={onCancel}
      testId="new-issue-dialog"
      footer={
        <>
          <button className="btn btn-ghost" onClick={onCancel}>
            Cancel
          </button>
          <button className="btn btn-primary" disabled={busy || !text.trim()} onClick={() => void submit()} data-testid="new-issue-save">
            Add issue
          </button>
        </>
      }
    >
      <p className="muted small">Pinned at {where}.</p>
      <textarea
        className="textarea"
        rows={4}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && text.trim()) void submit();
        }}
        maxLength={5000}
        aria-label="What is wrong here?"
        placeholder="What is wrong here?"
        data-testid="new-issue-text"
        autoFocus
      />
      {error && <div className="alert alert-error small">{error}</div>}
    </Dialog>
  );
}
