import { useState, type FormEvent } from 'react';
import { api, ApiError, enc, type FieldError } from '../api';
import { useAuth } from '../auth';
import { Dialog, ErrorAlert, formatDate, Loading, useLoad } from '../components/ui';
import type { Items, SystemRole, User } from '../types';

export function UsersPage() {
  const { user: me } = useAuth();
  const { data, error, loading, reload } = useLoad((signal) => api.get<Items<User>>('/api/users', { signal }), []);
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const patch = async (u: User, body: Partial<Pick<User, 'active' | 'systemRole' | 'name'>>) => {
    setActionError(null);
    setNotice(null);
    try {
      await api.patch<User>(`/api/users/${enc(u.id)}`, body);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Users</h1>
          <div className="sub">Accounts on this Caliper server.</div>
        </div>
        <button className="btn btn-primary" onClick={() => setCreating(true)} data-testid="user-new">
          New user
        </button>
      </div>
      <div className="stack">
        <ErrorAlert error={error ?? actionError} />
        {notice && <div className="alert alert-success">{notice}</div>}
        {loading && !data ? (
          <Loading />
        ) : (
          <div className="card">
            <table className="table" data-testid="users-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Email</th>
                  <th>System role</th>
                  <th>Status</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {data?.items.map((u) => (
                  <tr key={u.id} data-testid="user-row" data-email={u.email}>
                    <td>
                      {u.name}
                      {u.id === me?.id && <span className="faint"> (you)</span>}
                    </td>
                    <td className="muted">{u.email}</td>
                    <td>
                      <select
                        className="select input-sm"
                        value={u.systemRole}
                        disabled={u.id === me?.id}
                        onChange={(e) => void patch(u, { systemRole: e.target.value as SystemRole })}
                        aria-label={`System role of ${u.name}`}
                      >
                        <option value="user">user</option>
                        <option value="admin">admin</option>
                      </select>
                    </td>
                    <td>{u.active ? <span className="badge badge-completed">active</span> : <span className="badge badge-inactive">deactivated</span>}</td>
                    <td className="muted small nowrap">{formatDate(u.createdAt)}</td>
                    <td className="right nowrap">
                      <button className="btn btn-sm" onClick={() => setResetting(u)} data-testid="user-reset">
                        Reset password
                      </button>{' '}
                      {u.id !== me?.id &&
                        (u.active ? (
                          <button
                            className="btn btn-sm btn-danger"
                            onClick={() => {
                              if (window.confirm(`Deactivate ${u.name}? They are signed out and can no longer sign in.`)) void patch(u, { active: false });
                            }}
                            data-testid="user-deactivate"
                          >
                            Deactivate
                          </button>
                        ) : (
                          <button className="btn btn-sm" onClick={() => void patch(u, { active: true })} data-testid="user-activate">
                            Activate
                          </button>
                        ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      {creating && (
        <CreateUserDialog
          onClose={() => setCreating(false)}
          onCreated={(u) => {
            setCreating(false);
            setNotice(`Created ${u.name} (${u.email}).`);
            reload();
          }}
        />
      )}
      {resetting && (
        <ResetPasswordDialog
          user={resetting}
          onClose={() => setResetting(null)}
          onDone={() => {
            setNotice(`Password of ${resetting.name} was reset. Their sessions have ended.`);
            setResetting(null);
          }}
        />
      )}
    </div>
  );
}

function fieldErr(errors: FieldError[], path: string) {
  const e = errors.find((x) => x.path === path);
  return e ? <span className="field-error">{e.message}</span> : null;
}

function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (u: User) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [systemRole, setSystemRole] = useState<SystemRole>('user');
  const [error, setError] = useState<unknown>(null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const local: FieldError[] = [];
    if (!email.includes('@')) local.push({ path: 'email', message: 'Enter an email address.' });
    if (!name.trim()) local.push({ path: 'name', message: 'Enter a name.' });
    if (password.length < 10) local.push({ path: 'password', message: 'At least 10 characters.' });
    setErrors(local);
    if (local.length) return;
    setBusy(true);
    try {
      const u = await api.post<User>('/api/users', { email: email.trim(), name: name.trim(), password, systemRole });
      onCreated(u);
    } catch (err) {
      if (err instanceof ApiError) setErrors(err.errors);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="New user"
      onClose={onClose}
      testId="user-dialog"
      footer={
        <>
          <button className="btn btn-ghost" onClick={onClose}>
            Cancel
          </button>
          <button className="btn btn-primary" type="submit" form="create-user" disabled={busy} data-testid="user-create">
            Create user
          </button>
        </>
      }
    >
      <form id="create-user" className="stack" onSubmit={submit} noValidate>
        <ErrorAlert error={error} />
        <label className="field">
          <span className="label">Email</span>
          <input className="input" type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus data-testid="user-email" />
          {fieldErr(errors, 'email')}
        </label>
        <label className="field">
          <span className="label">Name</span>
          <input className="input" value={name} onChange={(e) => setName(e.target.value)} data-testid="user-name" />
          {fieldErr(errors, 'name')}
        </label>
        <label className="field">
          <span className="label">
            Initial password <span className="hint">at least 10 characters; share it securely</span>
          </span>
          <input className="input" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="user-password" />
          {fieldErr(errors, 'password')}
        </label>
        <label className="field">
          <span className="label">System role</span>
          <select className="select" value={systemRole} onChange={(e) => setSystemRole(e.target.value as SystemRole)} data-testid="user-role">
            <option value="user">user: works in the projects they are added to</option>
            <option value="admin">admin: manages users and sees all projects</option>
          </select>
        </label>
      </form>
    </Dialog>
  );
}

function ResetPasswordDialog({ user, onClose, onDone }: { user: User; onClose: () => void; onDone: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password.length < 10) {
      setError(new ApiError(400, 'The new password needs at least 10 characters.'));
      return;
    }
    setBusy(true);
    try {
      await api.post(`/api/users/${enc(user.id)}/password`, { password });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Reset password of ${user.name}`}
      onClose={onClose}
      footer={
        <>
          <button className="btn btn-ghost" onClick={onClose}>
            Cancel
          </button>
          <button className="btn btn-primary" type="submit" form="reset-password" disabled={busy}>
            Reset password
          </button>
        </>
      }
    >
      <form id="reset-password" className="stack" onSubmit={submit} noValidate>
        <p className="muted">All of this user's sessions end. Give them the new password through a secure channel.</p>
        <ErrorAlert error={error} />
        <label className="field">
          <span className="label">New password</span>
          <input className="input" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />
        </label>
      </form>
    </Dialog>
  );
}
