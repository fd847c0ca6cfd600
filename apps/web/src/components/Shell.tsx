import { useEffect, useRef, type ReactNode } from 'react';
import { Link, NavLink, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth';
import { useShortcutHelp } from './shortcuts';
import { isTypingTarget } from './ui';
import { syncStore } from '../workspace/sync';

export function Shell({ children }: { children: ReactNode }) {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  const { setOpen } = useShortcutHelp();
  const gPressed = useRef(0);

  // "g then p/q/a" navigation, like many keyboard-first tools.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target) || e.defaultPrevented) return;
      if (document.querySelector('[role="dialog"]')) return;
      const now = Date.now();
      if (e.key === 'g') {
        gPressed.current = now;
        return;
      }
      if (now - gPressed.current < 1000) {
        const to = e.key === 'p' ? '/projects' : e.key === 'q' ? '/queue' : e.key === 'a' ? '/account' : null;
        gPressed.current = 0;
        if (to) {
          e.preventDefault();
          navigate(to);
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/projects" className="brand" aria-label="Caliper home">
          <span className="brand-mark" aria-hidden="true" />
          Caliper
        </Link>
        <nav className="nav" aria-label="Main">
          <NavLink to="/projects" data-testid="nav-projects">
            Projects
          </NavLink>
          <NavLink to="/queue" data-testid="nav-queue">
            My queue
          </NavLink>
          {user?.systemRole === 'admin' && (
            <NavLink to="/admin/users" data-testid="nav-users">
              Users
            </NavLink>
          )}
          <NavLink to="/account" data-testid="nav-account">
            Account
          </NavLink>
        </nav>
        <div className="topbar-spacer" />
        <div className="topbar-user">
          <button className="btn btn-sm icon-btn" onClick={() => setOpen(true)} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" data-testid="shortcuts-button">
            ?
          </button>
          <span data-testid="current-user">
            <strong>{user?.name}</strong> <span className="faint">{user?.email}</span>
          </span>
          <button
            className="btn btn-sm"
            data-testid="logout"
            onClick={() => {
              if (syncStore.hasUnsaved() && !window.confirm('Some annotations have not reached the server yet. They stay in this browser and are sent the next time you open them. Sign out anyway?')) return;
              void logout().then(() => navigate('/login'));
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main className="main">{children}</main>
    </div>
  );
}
