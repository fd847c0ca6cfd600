import { useState, type FormEvent } from 'react';
import { api, ApiError, enc } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, formatDate, Loading, useLoad } from '../components/ui';
import type { Items, TokenInfo } from '../types';

export function AccountPage() {
  const { user } = useAuth();
  return (
    <div className="page page-narrow">
      <div className="page-header">
        <div>
          <h1>Account</h1>
          <div className="sub">
            {user?.name} · {user?.email} · {user?.systemRole}
          </div>
        </div>
      </div>
      <ChangePassword />
      <Tokens />
    </div>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    setError(null);
    if (next.length < 10) return setError(new ApiError(400, 'The new password needs at least 10 characters.'));
    if (next !== confirm) return setError(new ApiError(400, 'The two new passwords do not match.'));
    setBusy(true);
    try {
      await api.post('/api/auth/password', { currentPassword: current, newPassword: next });
      setDone(true);
      setCurrent('');
      setNext('');
      setConfirm('');
    } catch (err) {
      setError(err instanceof ApiError && (err.status === 401 || err.status === 403) ? new ApiError(err.status, 'The current password is not correct.') : err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="section">
      <form className="card" onSubmit={submit} noValidate>
        <div className="card-header">
          <h2>Change password</h2>
        </div>
        <div className="card-body stack">
          <ErrorAlert error={error} />
          {done && <div className="alert alert-success">Password changed.</div>}
          <label className="field">
            <span className="label">Current password</span>
            <input className="input" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
          </label>
          <div className="form-grid">
            <label className="field">
              <span className="label">
                New password <span className="hint">at least 10 characters</span>
              </span>
              <input className="input" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
            </label>
            <label className="field">
              <span className="label">Repeat new password</span>
              <input className="input" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
            </label>
          </div>
          <div className="form-actions">
            <button className="btn btn-primary" disabled={busy || !current || !next}>
              Change password
            </button>
          </div>
        </div>
      </form>
    </section>
  );
}

function Tokens() {
  const { data, error, loading, reload } = useLoad((signal) => api.get<Items<TokenInfo>>('/api/tokens', { signal }), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setActionError(null);
    setCopied(false);
    try {
      const t = await api.post<{ id: string; name: string; token: string }>('/api/tokens', { name: name.trim() });
      setCreated({ name: t.name, token: t.token });
      setName('');
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const revoke = async (t: TokenInfo) => {
    if (!window.confirm(`Revoke the token "${t.name}"? Scripts using it stop working.`)) return;
    try {
      await api.del(`/api/tokens/${enc(t.id)}`);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied(true);
    } catch {
      // Clipboard API needs a secure context; select the text so Ctrl+C works.
      const el = document.querySelector<HTMLElement>('[data-testid="token-value"]');
      if (el) window.getSelection()?.selectAllChildren(el);
    }
  };

  return (
    <section className="section">
      <div className="card">
        <div className="card-header">
          <h2>Personal access tokens</h2>
        </div>
        <div className="card-body stack">
          <p className="muted" style={{ margin: 0 }}>
            For scripts, the CLI and the REST API: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts with your permissions.
          </p>
          <form className="row-end" onSubmit={create}>
            <label className="field grow">
              <span className="label">Token name</span>
              <input className="input" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. training pipeline" data-testid="token-name" />
            </label>
            <button className="btn btn-primary" disabled={!name.trim()} data-testid="token-create">
              Create token
            </button>
          </form>
          {created && (
            <div className="alert alert-warning" data-testid="token-created">
              <div style={{ marginBottom: 6 }}>
                Copy the token <strong>{created.name}</strong> now. It is shown only once.
              </div>
              <div className="token-box">
                <code data-testid="token-value">{created.token}</code>
                <button className="btn btn-sm" type="button" onClick={() => void copy()} data-testid="token-copy">
                  {copied ? 'Copied' : 'Copy'}
                </button>
                <button className="btn btn-sm btn-ghost" type="button" onClick={() => setCreated(null)}>
                  Done
                </button>
              </div>
            </div>
          )}
          <ErrorAlert error={error ?? actionError} />
        </div>
        {loading && !data ? (
          <Loading />
        ) : (
          <table className="table" data-testid="tokens-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Created</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data?.items.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td className="muted small nowrap">{formatDate(t.createdAt)}</td>
                  <td className="muted small nowrap">{t.lastUsedAt ? formatDate(t.lastUsedAt) : 'never'}</td>
                  <td className="right">
                    {t.revokedAt ? (
                      <span className="badge badge-inactive">revoked {formatDate(t.revokedAt)}</span>
                    ) : (
                      <button className="btn btn-sm btn-danger" onClick={() => void revoke(t)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {data?.items.length === 0 && (
                <tr>
                  <td colSpan={4} className="empty">
                    No tokens.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
