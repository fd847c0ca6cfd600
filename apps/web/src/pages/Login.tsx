import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { ApiError, errorMessage } from '../api';
import { useAuth } from '../auth';

function loginMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Wrong email or password.';
    if (err.status === 429) return err.detail || 'Too many sign-in attempts. Wait a minute and try again.';
    if (err.status === 403) return err.detail || 'This account is deactivated.';
  }
  return errorMessage(err);
}

export function LoginPage() {
  const { user, loading, login } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const rawNext = params.get('next') ?? '/projects';
  const next = rawNext.startsWith('/') && !rawNext.startsWith('//') ? rawNext : '/projects';

  if (!loading && user) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      setError(loginMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-wrap">
      <div className="login-card">
        <div className="login-brand">
          <span className="brand-mark" aria-hidden="true" /> Caliper
        </div>
        <form className="card" onSubmit={submit} noValidate>
          <div className="card-body stack">
            <div>
              <h1>Sign in</h1>
              <p className="muted small" style={{ marginTop: 4 }}>
                Medical data annotation
              </p>
            </div>
            {error && (
              <div className="alert alert-error" role="alert" data-testid="login-error">
                {error}
              </div>
            )}
            <label className="field">
              <span className="label">Email</span>
              <input
                className="input"
                type="email"
                autoComplete="username"
                autoFocus
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                data-testid="login-email"
              />
            </label>
            <label className="field">
              <span className="label">Password</span>
              <input
                className="input"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                data-testid="login-password"
              />
            </label>
            <button className="btn btn-primary btn-lg" type="submit" disabled={busy || !email || !password} data-testid="login-submit">
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
