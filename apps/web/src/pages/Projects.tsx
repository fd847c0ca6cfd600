import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, formatDate, Loading, useLoad } from '../components/ui';
import type { Items, ProjectSummary } from '../types';

export function ProjectsPage() {
  const { user } = useAuth();
  const { data, error, loading } = useLoad((signal) => api.get<Items<ProjectSummary>>('/api/projects', { signal }), []);
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Projects</h1>
          <div className="sub">{user?.systemRole === 'admin' ? 'All projects on this server (you are an administrator).' : 'Projects you are a member of.'}</div>
        </div>
        <Link to="/projects/new" className="btn btn-primary" data-testid="new-project">
          New project
        </Link>
      </div>
      <ErrorAlert error={error} />
      {loading && !data ? (
        <Loading />
      ) : (
        <div className="card">
          {data && data.items.length === 0 ? (
            <div className="empty">No projects yet. Create one to define labels and import data.</div>
          ) : (
            <table className="table" data-testid="projects-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>My role</th>
                  <th className="num">Tasks</th>
                  <th className="num">Assets</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {data?.items.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <Link to={`/projects/${p.id}`} data-testid="project-link">
                        <strong>{p.name}</strong>
                      </Link>
                      {p.description && <div className="muted small">{p.description}</div>}
                    </td>
                    <td>{p.myRole === 'admin' || !p.myRole ? <span className="badge badge-admin">administrator</span> : p.myRole}</td>
                    <td className="num">{p.taskCount}</td>
                    <td className="num">{p.assetCount}</td>
                    <td className="nowrap muted">{formatDate(p.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}
