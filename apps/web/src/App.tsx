import { createBrowserRouter, Navigate, Outlet, useLocation } from 'react-router-dom';
import { AuthProvider, useAuth } from './auth';
import { ShortcutProvider } from './components/shortcuts';
import { Shell } from './components/Shell';
import { Loading } from './components/ui';
import { LoginPage } from './pages/Login';
import { ProjectsPage } from './pages/Projects';
import { NewProjectPage } from './pages/NewProject';
import { ProjectPage } from './pages/Project';
import { TaskPage } from './pages/Task';
import { ReviewBurnedInPage } from './pages/ReviewBurnedIn';
import { QueuePage } from './pages/Queue';
import { UsersPage } from './pages/Users';
import { AccountPage } from './pages/Account';
import { JobRedirect, WorkspacePage } from './workspace/Workspace';
import { NotFound } from './pages/NotFound';

function Root() {
  return (
    <AuthProvider>
      <ShortcutProvider>
        <Outlet />
      </ShortcutProvider>
    </AuthProvider>
  );
}

function RequireAuth() {
  const { user, loading } = useAuth();
  const location = useLocation();
  if (loading) return <Loading />;
  if (!user) {
    const next = location.pathname + location.search;
    return <Navigate to={`/login${next && next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} replace />;
  }
  return (
    <Shell>
      <Outlet />
    </Shell>
  );
}

function RequireAdmin() {
  const { user } = useAuth();
  if (user?.systemRole !== 'admin') return <NotFound />;
  return <Outlet />;
}

export const router = createBrowserRouter([
  {
    element: <Root />,
    children: [
      { path: '/login', element: <LoginPage /> },
      {
        element: <RequireAuth />,
        children: [
          { path: '/', element: <Navigate to="/projects" replace /> },
          { path: '/projects', element: <ProjectsPage /> },
          { path: '/projects/new', element: <NewProjectPage /> },
          { path: '/projects/:projectId', element: <ProjectPage /> },
          { path: '/projects/:projectId/review-burned-in', element: <ReviewBurnedInPage /> },
          { path: '/projects/:projectId/:tab', element: <ProjectPage /> },
          { path: '/tasks/:taskId', element: <TaskPage /> },
          { path: '/queue', element: <QueuePage /> },
          { path: '/jobs/:jobId', element: <JobRedirect /> },
          { path: '/jobs/:jobId/assets/:assetId', element: <WorkspacePage /> },
          { path: '/account', element: <AccountPage /> },
          { element: <RequireAdmin />, children: [{ path: '/admin/users', element: <UsersPage /> }] },
          { path: '*', element: <NotFound /> },
        ],
      },
    ],
  },
]);
