import { Link } from 'react-router-dom';

export function NotFound() {
  return (
    <div className="page page-narrow">
      <div className="card card-body empty">
        <h1>Not found</h1>
        <p className="muted">This page does not exist, or you do not have access to it.</p>
        <Link className="btn" to="/projects">
          Back to projects
        </Link>
      </div>
    </div>
  );
}
