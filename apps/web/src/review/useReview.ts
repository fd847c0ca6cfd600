// Review state of one job for the workspace: the review status, every issue thread of the job,
// and the actions (start, decide, open an issue, reply, resolve / reopen).

import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError, enc } from '../api';
import type { Issue, IssueLocation, Items, ReviewStatus } from '../types';
import { pinNumbers } from './pins';

export type Decision = 'accept' | 'fix-accept' | 'reject';

export interface ReviewModel {
  status: ReviewStatus | null;
  issues: Issue[];
  numbers: Map<string, number>;
  error: string | null;
  reload(): void;
  start(): Promise<ReviewStatus>;
  decide(decision: Decision, comment?: string): Promise<ReviewStatus>;
  createIssue(assetId: string, location: IssueLocation, text: string): Promise<Issue>;
  reply(issueId: string, text: string): Promise<Issue>;
  setState(issueId: string, state: Issue['state']): Promise<Issue>;
}

/** Loads the job's review status and issues; `refreshKey` changes (e.g. a saved revision) reload the status. */
export function useReview(jobId: string, refreshKey: unknown): ReviewModel {
  const [status, setStatus] = useState<ReviewStatus | null>(null);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<ReviewStatus>(`/api/jobs/${enc(jobId)}/review`, { signal: ctrl.signal })
      .then(async (s) => {
        setStatus(s);
        if (!s.canDiscuss) {
          setIssues([]);
          return;
        }
        const list = await api.get<Items<Issue>>(`/api/jobs/${enc(jobId)}/issues`, { signal: ctrl.signal });
        setIssues(list.items);
      })
      .catch((err: unknown) => {
        if (ctrl.signal.aborted) return;
        setError(err instanceof ApiError ? err.detail : String(err));
      });
    return () => ctrl.abort();
  }, [jobId, tick, refreshKey]);

  const replace = useCallback((issue: Issue) => {
    setIssues((list) => (list.some((i) => i.id === issue.id) ? list.map((i) => (i.id === issue.id ? issue : i)) : [...list, issue]));
    return issue;
  }, []);

  const numbers = useMemo(() => pinNumbers(issues), [issues]);

  return {
    status,
    issues,
    numbers,
    error,
    reload,
    start: async () => {
      const s = await api.post<ReviewStatus>(`/api/jobs/${enc(jobId)}/review/start`, {});
      setStatus(s);
      return s;
    },
    decide: async (decision, comment) => {
      const s = await api.post<ReviewStatus>(`/api/jobs/${enc(jobId)}/review`, comment ? { decision, comment } : { decision });
      setStatus(s);
      reload();
      return s;
    },
    createIssue: async (assetId, location, text) => {
      const issue = replace(await api.post<Issue>(`/api/jobs/${enc(jobId)}/issues`, { assetId, location, text }));
      setStatus((s) => (s ? { ...s, openIssues: s.openIssues + 1 } : s));
      return issue;
    },
    reply: async (issueId, text) => replace(await api.post<Issue>(`/api/issues/${enc(issueId)}/comments`, { text })),
    setState: async (issueId, state) => {
      const issue = replace(await api.patch<Issue>(`/api/issues/${enc(issueId)}`, { state }));
      setStatus((s) => (s ? { ...s, openIssues: Math.max(0, s.openIssues + (state === 'open' ? 1 : -1)) } : s));
      return issue;
    },
  };
}
