// The "Issues" panel of the workspace: the current asset's threads (open first), each with its
// comments, a reply box and resolve / reopen; and the "Add issue" button.

import { useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api';
import { formatDate } from '../components/ui';
import type { Issue } from '../types';
import { describeLocation, sortThreads } from './pins';
import type { ReviewModel } from './useReview';

export interface IssuesPanelProps {
  review: ReviewModel;
  assetId: string;
  sliceWord: string;
  selectedId: string | null;
  onSelect(id: string | null): void;
  adding: boolean;
  onToggleAdding(): void;
  /** Show the issue's place (slice / point) in the viewer. */
  onJump(issue: Issue): void;
}

export function IssuesPanel(props: IssuesPanelProps) {
  const { review, assetId } = props;
  const threads = sortThreads(
    review.issues.filter((i) => i.assetId === assetId),
    review.numbers,
  );
  const open = threads.filter((t) => t.state === 'open').length;
  return (
    <section className="issues-panel" aria-label="Issues" data-testid="issues-panel">
      <div className="issues-head">
        <h3>
          Issues <span className="issues-count">{open} open</span>
        </h3>
        <button className={`btn btn-sm${props.adding ? ' btn-primary' : ''}`} onClick={props.onToggleAdding} aria-pressed={props.adding} data-testid="add-issue" title="Add issue: click on the image to pin it (A)">
          {props.adding ? 'Click on the image…' : '+ Add issue'} <kbd>A</kbd>
        </button>
      </div>
      {threads.length === 0 ? (
        <p className="ws-empty small">No issues on this asset.</p>
      ) : (
        <ol className="issue-list">
          {threads.map((t) => (
            <Thread key={t.id} issue={t} n={review.numbers.get(t.id) ?? 0} {...props} />
          ))}
        </ol>
      )}
    </section>
  );
}

function Thread({ issue, n, review, selectedId, onSelect, onJump, sliceWord }: IssuesPanelProps & { issue: Issue; n: number }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const selected = selectedId === issue.id;
  const ref = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (selected) ref.current?.scrollIntoView({ block: 'nearest' });
  }, [selected]);
  const run = async (f: () => Promise<unknown>) => {
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
  return (
    <li ref={ref} className={`issue${selected ? ' selected' : ''} ${issue.state}`} data-testid="issue-thread" data-issue-id={issue.id} data-state={issue.state}>
      <button
        type="button"
        className="issue-summary"
        onClick={() => {
          onSelect(selected ? null : issue.id);
          if (!selected) onJump(issue);
        }}
        aria-expanded={selected}
      >
        <span className="issue-num">{n}</span>
        <span className="issue-where">{describeLocation(issue.location, sliceWord)}</span>
        <span className={`issue-state ${issue.state}`}>{issue.state}</span>
      </button>
      <p className="issue-first">{issue.comments[0]?.text}</p>
      {selected && (
        <div className="issue-body">
          <ul className="issue-comments">
            {issue.comments.map((c) => (
              <li key={c.id} data-testid="issue-comment">
                <div className="issue-meta">
                  {c.authorName ?? 'Someone'} · {formatDate(c.createdAt)}
                </div>
                <div className="issue-text">{c.text}</div>
              </li>
            ))}
          </ul>
          <textarea className="textarea" rows={2} placeholder="Reply…" value={text} onChange={(e) => setText(e.target.value)} maxLength={5000} aria-label="Reply" data-testid="issue-reply" />
          {error && <div className="field-error small">{error}</div>}
          <div className="row issue-actions">
            <button
              className="btn btn-sm"
              disabled={busy || !text.trim()}
              data-testid="issue-reply-send"
              onClick={() =>
                void run(async () => {
                  await review.reply(issue.id, text.trim());
                  setText('');
                })
              }
            >
              Reply
            </button>
            <button
              className="btn btn-sm"
              disabled={busy}
              data-testid={issue.state === 'open' ? 'issue-resolve' : 'issue-reopen'}
              onClick={() => void run(() => review.setState(issue.id, issue.state === 'open' ? 'resolved' : 'open'))}
            >
              {issue.state === 'open' ? 'Resolve' : 'Reopen'}
            </button>
          </div>
        </div>
      )}
    </li>
  );
}
