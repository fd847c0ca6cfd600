import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../src/index.js';
import { CLASSIFY_SCHEMA, Client, DB_KINDS, formWith, makePng, type Res, startTestServer, tag, type TestServer } from './harness.js';

const PROBLEM = 'application/problem+json';
const expectProblem = (r: Res, status: number) => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type') ?? '').toContain(PROBLEM);
  expect(r.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  expect(r.body.detail.length).toBeGreaterThan(5);
};

/** Puts a concrete value into every `:param` of a route pattern. */
const fill = (url: string, value: (name: string) => string) => url.replace(/:([A-Za-z]+)/g, (_, name: string) => value(name));

describe.each(DB_KINDS)('access policy on %s', (kind) => {
  let ts: TestServer;
  let routes: { method: string; url: string; access: string }[];

  beforeAll(async () => {
    ts = await startTestServer(kind);
    routes = routeTable.get(ts.server.app) ?? [];
  });
  afterAll(async () => ts?.close());

  // ---------------------------------------------------------------------------------------
  describe('route-level access', () => {
    it('the only public routes are health, login, the OpenAPI document and the docs UI', () => {
      expect(routes.length).toBeGreaterThan(30);
      const pub = routes.filter((r) => r.access === 'public');
      const notDocs = pub.filter((r) => !r.url.startsWith('/api/docs')).map((r) => `${r.method} ${r.url}`);
      expect(notDocs.sort()).toEqual(['GET /api/health', 'GET /api/openapi.json', 'POST /api/auth/login']);
      // the docs UI exists, is read-only and is the only other public thing
      const docs = pub.filter((r) => r.url.startsWith('/api/docs'));
      expect(docs.length).toBeGreaterThan(0);
      expect(new Set(docs.map((r) => r.method))).toEqual(new Set(['GET']));
      // nothing under /api/docs is registered with another access level
      expect(routes.filter((r) => r.url.startsWith('/api/docs') && r.access !== 'public')).toEqual([]);
    });

    it('every route in docs/api.md is registered with the documented access level', async () => {
      const md = await readFile(new URL('../../../docs/api.md', import.meta.url), 'utf8');
      const documented = [...md.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) (\/api\/\S+) \| ([^|]+) \|/gm)].map((m) => ({
        method: m[1]!,
        url: m[2]!.split('?')[0]!.replace(/\{(\w+)\}/g, ':$1'),
        who: m[3]!.trim(),
      }));
      expect(documented.length).toBeGreaterThan(30);
      const normalise = (u: string) => u.replace(/:\w+/g, ':p');
      for (const d of documented) {
        const r = routes.find((x) => x.method === d.method && normalise(x.url) === normalise(d.url));
        expect(r, `${d.method} ${d.url} is documented but not registered`).toBeDefined();
        const expected = d.who === 'public' ? 'public' : d.who === 'admin' ? 'admin' : 'user';
        expect(`${d.method} ${d.url}: ${r!.access}`).toBe(`${d.method} ${d.url}: ${expected}`);
      }
    });

    it('every non-public route answers 401 problem+json without credentials, with a bad token and with a bad cookie', async () => {
      const closed = routes.filter((r) => r.access !== 'public');
      const anon = new Client(ts.url);
      const badBearer = Client.withToken(ts.url, 'cal_' + 'x'.repeat(40));
      const badCookie = new Client(ts.url);
      badCookie.cookie = 'caliper_session=not-a-session';
      badCookie.csrf = 'whatever';
      for (const r of closed) {
        const url = fill(r.url, (name) => (name === 'rev' ? '1' : randomUUID()));
        const body = r.method === 'GET' ? undefined : {};
        for (const [who, c] of [['anonymous', anon], ['bad bearer', badBearer], ['bad cookie', badCookie]] as const) {
          const res = await c.request(r.method, url, body);
          expect(`${who} ${r.method} ${r.url} → ${res.status}`).toBe(`${who} ${r.method} ${r.url} → 401`);
          expectProblem(res, 401);
        }
      }
    });

    it('public routes stay reachable with no credentials', async () => {
      const anon = new Client(ts.url);
      expect((await anon.get('/api/health')).status).toBe(200);
      const spec = await anon.get('/api/openapi.json');
      expect(spec.status).toBe(200);
      expect(spec.body.openapi).toMatch(/^3\./);
      const docs = await fetch(`${ts.url}/api/docs`, { redirect: 'manual' });
      expect(docs.status).toBeLessThan(400);
      // an invalid bearer token on a public route is ignored, not an error
      expect((await Client.withToken(ts.url, 'cal_nope').get('/api/health')).status).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('role × operation matrix', () => {
    const ROLES = ['manager', 'annotator', 'annotator2', 'reviewer', 'viewer', 'outsider', 'admin'] as const;
    type Role = (typeof ROLES)[number];
    type Expect = Record<Role, number>;

    const clients = {} as Record<Role, Client>;
    const ids = {} as Record<Role | 'spare', string>;
    let admin: Client;
    let projectId: string;
    let taskId: string; // holds job1 (assigned to annotator) and job2 (unassigned)
    let uploadTaskId: string; // uploads and job creation happen here
    let job1: string;
    let job2: string;
    let asset1: string; // in job1
    let asset2: string; // in job2
    let seed = 100;
    let userSeq = 0;
    let scratchTaskId = '';

    const freshPng = async () => formWith([{ name: `scan-${seed}.png`, data: await makePng(3, 3, 8, seed++), type: 'image/png' }]);
    const currentRevision = async () => (await admin.get(`/api/jobs/${job1}/assets/${asset1}/annotations`)).body.revision as number;

    beforeAll(async () => {
      admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
      clients.admin = admin;
      ids.admin = (await admin.get('/api/auth/me')).body.user.id;
      for (const r of [...ROLES.filter((x) => x !== 'admin'), 'spare'] as const) {
        const email = `${r}@example.org`;
        const u = await admin.post('/api/users', { email, name: r, password: `${r}-password-1` });
        expect(u.status).toBe(201);
        ids[r] = u.body.id;
        if (r !== 'spare') clients[r] = await Client.login(ts.url, email, `${r}-password-1`);
      }
      // Project A, with every role. Admin creates it (and is thereby a member too).
      const p = await admin.post('/api/projects', { name: 'Project A', labelSchema: CLASSIFY_SCHEMA });
      projectId = p.body.id;
      const roleOf: Partial<Record<Role, string>> = { manager: 'manager', annotator: 'annotator', annotator2: 'annotator', reviewer: 'reviewer', viewer: 'viewer' };
      for (const [r, role] of Object.entries(roleOf)) {
        expect((await admin.put(`/api/projects/${projectId}/members/${ids[r as Role]}`, { role })).status).toBe(200);
      }
      // The outsider manages a project of their own: a manager elsewhere is still an outsider here.
      expect((await clients.outsider.post('/api/projects', { name: 'Project B', labelSchema: CLASSIFY_SCHEMA })).status).toBe(201);

      taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'Main' })).body.id;
      uploadTaskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'Uploads' })).body.id;
      const up = await admin.post(
        `/api/tasks/${taskId}/assets`,
        formWith([
          { name: 'a1.png', data: await makePng(4, 4, 8, 1), type: 'image/png' },
          { name: 'a2.png', data: await makePng(4, 4, 8, 2), type: 'image/png' },
        ]),
      );
      expect(up.status).toBe(201);
      [asset1, asset2] = up.body.accepted.map((a: { id: string }) => a.id);
      const jobs = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 1 });
      expect(jobs.status).toBe(201);
      [job1, job2] = jobs.body.items.map((j: { id: string }) => j.id);
      expect((await admin.patch(`/api/jobs/${job1}`, { assigneeId: ids.annotator })).status).toBe(200);
    });

    let exportId: string | undefined;
    interface Op {
      name: string;
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      url: () => string;
      body?: (role: Role) => unknown | Promise<unknown>;
      /** Brings the state back so that each role meets the same situation. */
      before?: () => Promise<void>;
      expect: Expect;
    }

    //                       manager annot. annot2 review. viewer outsider admin
    const row = (m: number, a: number, a2: number, r: number, v: number, o: number, ad: number): Expect => ({
      manager: m, annotator: a, annotator2: a2, reviewer: r, viewer: v, outsider: o, admin: ad,
    });

    const ops: Op[] = [
      { name: 'read project', method: 'GET', url: () => `/api/projects/${projectId}`, expect: row(200, 200, 200, 200, 200, 404, 200) },
      { name: 'patch project', method: 'PATCH', url: () => `/api/projects/${projectId}`, body: () => ({ description: 'updated' }), expect: row(200, 403, 403, 403, 403, 404, 200) },
      { name: 'list members', method: 'GET', url: () => `/api/projects/${projectId}/members`, expect: row(200, 200, 200, 200, 200, 404, 200) },
      { name: 'put member', method: 'PUT', url: () => `/api/projects/${projectId}/members/${ids.spare}`, body: () => ({ role: 'viewer' }), expect: row(200, 403, 403, 403, 403, 404, 200) },
      {
        name: 'delete member',
        method: 'DELETE',
        url: () => `/api/projects/${projectId}/members/${ids.spare}`,
        before: async () => void (await admin.put(`/api/projects/${projectId}/members/${ids.spare}`, { role: 'viewer' })),
        expect: row(204, 403, 403, 403, 403, 404, 204),
      },
      { name: 'list tasks', method: 'GET', url: () => `/api/projects/${projectId}/tasks`, expect: row(200, 200, 200, 200, 200, 404, 200) },
      { name: 'create task', method: 'POST', url: () => `/api/projects/${projectId}/tasks`, body: (r) => ({ name: `by ${r}` }), expect: row(201, 403, 403, 403, 403, 404, 201) },
      { name: 'read task', method: 'GET', url: () => `/api/tasks/${taskId}`, expect: row(200, 200, 200, 200, 200, 404, 200) },
      { name: 'list task assets', method: 'GET', url: () => `/api/tasks/${taskId}/assets`, expect: row(200, 403, 403, 200, 200, 404, 200) },
      { name: 'upload asset', method: 'POST', url: () => `/api/tasks/${uploadTaskId}/assets`, body: () => freshPng(), expect: row(201, 403, 403, 403, 403, 404, 201) },
      { name: 'list task jobs', method: 'GET', url: () => `/api/tasks/${taskId}/jobs`, expect: row(200, 200, 200, 200, 200, 404, 200) },
      {
        name: 'create jobs',
        method: 'POST',
        url: () => `/api/tasks/${uploadTaskId}/jobs`,
        before: async () => expect((await admin.post(`/api/tasks/${uploadTaskId}/assets`, await freshPng())).status).toBe(201),
        body: () => ({ assetsPerJob: 5 }),
        expect: row(201, 403, 403, 403, 403, 404, 201),
      },
      { name: 'read own job', method: 'GET', url: () => `/api/jobs/${job1}`, expect: row(200, 200, 404, 200, 200, 404, 200) },
      { name: 'read unassigned job', method: 'GET', url: () => `/api/jobs/${job2}`, expect: row(200, 404, 404, 200, 200, 404, 200) },
      { name: 'patch job assignee', method: 'PATCH', url: () => `/api/jobs/${job1}`, body: () => ({ assigneeId: ids.annotator }), expect: row(200, 403, 404, 403, 403, 404, 200) },
      { name: 'read annotations', method: 'GET', url: () => `/api/jobs/${job1}/assets/${asset1}/annotations`, expect: row(200, 200, 404, 200, 200, 404, 200) },
      { name: 'list annotation revisions', method: 'GET', url: () => `/api/jobs/${job1}/assets/${asset1}/annotations/revisions`, expect: row(200, 200, 404, 200, 200, 404, 200) },
      {
        name: 'put annotations',
        method: 'PUT',
        url: () => `/api/jobs/${job1}/assets/${asset1}/annotations`,
        body: async (r) => ({ baseRevision: await currentRevision(), document: { objects: [tag('Normal', ids[r])] } }),
        expect: row(200, 200, 404, 403, 403, 404, 200),
      },
      { name: 'read annotations of an unassigned job', method: 'GET', url: () => `/api/jobs/${job2}/assets/${asset2}/annotations`, expect: row(200, 404, 404, 200, 200, 404, 200) },
      { name: 'read asset', method: 'GET', url: () => `/api/assets/${asset1}`, expect: row(200, 200, 404, 200, 200, 404, 200) },
      { name: 'read asset media', method: 'GET', url: () => `/api/assets/${asset1}/media`, expect: row(200, 200, 404, 200, 200, 404, 200) },
      { name: 'read asset outside own jobs', method: 'GET', url: () => `/api/assets/${asset2}`, expect: row(200, 404, 404, 200, 200, 404, 200) },
      { name: 'read media outside own jobs', method: 'GET', url: () => `/api/assets/${asset2}/media`, expect: row(200, 404, 404, 200, 200, 404, 200) },
      { name: 'look up user by email', method: 'GET', url: () => '/api/users/lookup?email=spare@example.org', expect: row(200, 403, 403, 403, 403, 200, 200) },
      { name: 'list users', method: 'GET', url: () => '/api/users', expect: row(403, 403, 403, 403, 403, 403, 200) },
      {
        name: 'create user',
        method: 'POST',
        url: () => '/api/users',
        body: (r) => ({ email: `new-${r}-${userSeq++}@example.org`, name: 'New', password: 'new-user-password' }),
        expect: row(403, 403, 403, 403, 403, 403, 201),
      },
      { name: 'start an export', method: 'POST', url: () => `/api/projects/${projectId}/exports`, body: () => ({ format: 'caliper' }), expect: row(202, 403, 403, 403, 403, 404, 202) },
      { name: 'list exports', method: 'GET', url: () => `/api/projects/${projectId}/exports`, expect: row(200, 403, 403, 403, 403, 404, 200) },
      {
        name: 'read an export',
        method: 'GET',
        url: () => `/api/exports/${exportId}`,
        before: async () => void (exportId ??= (await admin.post(`/api/projects/${projectId}/exports`, { format: 'coco' })).body.id),
        expect: row(200, 404, 404, 404, 404, 404, 200),
      },
      {
        name: 'import annotations (dry run)',
        method: 'POST',
        url: () => `/api/tasks/${taskId}/imports?format=coco&dryRun=true`,
        body: () => formWith([{ name: 'c.json', data: JSON.stringify({ images: [], annotations: [], categories: [] }), type: 'application/json' }]),
        expect: row(200, 403, 403, 403, 403, 404, 200),
      },
      { name: 'read task quality settings', method: 'GET', url: () => `/api/tasks/${taskId}/quality`, expect: row(200, 403, 403, 200, 403, 404, 200) },
      { name: 'set task overlap', method: 'PUT', url: () => `/api/tasks/${taskId}/quality`, body: () => ({ overlap: 1, honeypotPercent: 0 }), expect: row(200, 403, 403, 403, 403, 404, 200) },
      { name: 'read the quality dashboard', method: 'GET', url: () => `/api/projects/${projectId}/quality`, expect: row(200, 403, 403, 200, 403, 404, 200) },
      { name: 'download quality CSV', method: 'GET', url: () => `/api/projects/${projectId}/quality.csv`, expect: row(200, 403, 403, 200, 403, 404, 200) },
      { name: 'list consensus items', method: 'GET', url: () => `/api/tasks/${taskId}/consensus`, expect: row(200, 403, 403, 200, 403, 404, 200) },
      { name: 're-run consensus', method: 'POST', url: () => `/api/tasks/${taskId}/consensus`, expect: row(202, 403, 403, 403, 403, 404, 202) },
      { name: 'list ground truth', method: 'GET', url: () => `/api/tasks/${taskId}/ground-truth`, expect: row(200, 403, 403, 200, 403, 404, 200) },
      { name: 'read the review queue', method: 'GET', url: () => '/api/review/queue', expect: row(200, 200, 200, 200, 200, 200, 200) },
      { name: 'read a job’s review status', method: 'GET', url: () => `/api/jobs/${job1}/review`, expect: row(200, 200, 404, 200, 200, 404, 200) },
      // Issues are for the job's annotator, reviewers and managers: viewers do not see them.
      { name: 'list a job’s issues', method: 'GET', url: () => `/api/jobs/${job1}/issues`, expect: row(200, 200, 404, 200, 404, 404, 200) },
      {
        name: 'open an issue on a job',
        method: 'POST',
        url: () => `/api/jobs/${job1}/issues`,
        body: () => ({ assetId: asset1, location: { point: [1, 2] }, text: 'Check the margin here.' }),
        expect: row(201, 201, 404, 201, 404, 404, 201),
      },
      { name: 'start reviewing a job that is not submitted', method: 'POST', url: () => `/api/jobs/${job2}/review/start`, expect: row(409, 404, 404, 409, 403, 404, 409) },
      { name: 'read replicas of an item without replicas', method: 'GET', url: () => `/api/jobs/${job1}/assets/${asset1}/replicas`, expect: row(404, 404, 404, 404, 404, 404, 404) },
      { name: 'read audit trail', method: 'GET', url: () => '/api/audit', expect: row(403, 403, 403, 403, 403, 403, 200) },
      { name: 'read a project that does not exist', method: 'GET', url: () => `/api/projects/${randomUUID()}`, expect: row(404, 404, 404, 404, 404, 404, 404) },
      // destructive operations last
      {
        name: 'delete task',
        method: 'DELETE',
        url: () => `/api/tasks/${scratchTaskId}`,
        before: async () => void (scratchTaskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'scratch' })).body.id),
        expect: row(204, 403, 403, 403, 403, 404, 204),
      },
    ];

    it.each(ops.map((op) => [op.name, op] as const))('%s', async (_name, op) => {
      const got = {} as Expect;
      for (const role of ROLES) {
        await op.before?.();
        const res = await clients[role].request(op.method, op.url(), await op.body?.(role));
        got[role] = res.status;
        if (res.status >= 400) {
          // every refusal is a problem document with a sentence for a person
          expect(res.headers.get('content-type') ?? '').toContain(PROBLEM);
          expect(typeof res.body.detail).toBe('string');
        }
      }
      expect(got).toEqual(op.expect);
    });

    it('an outsider cannot tell an existing project object from a missing one', async () => {
      const o = clients.outsider;
      const pairs: [string, string][] = [
        [`/api/projects/${projectId}`, `/api/projects/${randomUUID()}`],
        [`/api/tasks/${taskId}`, `/api/tasks/${randomUUID()}`],
        [`/api/jobs/${job1}`, `/api/jobs/${randomUUID()}`],
        [`/api/assets/${asset1}`, `/api/assets/${randomUUID()}`],
        [`/api/assets/${asset1}/media`, `/api/assets/${randomUUID()}/media`],
      ];
      for (const [real, missing] of pairs) {
        const a = await o.get(real);
        const b = await o.get(missing);
        expect(a.status).toBe(404);
        expect({ status: a.status, body: a.body }).toEqual({ status: b.status, body: b.body });
      }
    });

    it('an annotator without the job cannot see it in lists either', async () => {
      const a2 = await clients.annotator2.get(`/api/tasks/${taskId}/jobs`);
      expect(a2.body.items).toEqual([]);
      const a1 = await clients.annotator.get(`/api/tasks/${taskId}/jobs`);
      expect(a1.body.items.map((j: { id: string }) => j.id)).toEqual([job1]);
      expect((await clients.annotator2.get('/api/me/jobs')).body.items).toEqual([]);
      const mgr = await clients.manager.get(`/api/tasks/${taskId}/jobs`);
      expect(mgr.body.items.map((j: { id: string }) => j.id).sort()).toEqual([job1, job2].sort());
    });

    it('GET /api/projects lists the project for members only', async () => {
      const names = async (r: Role) => ((await clients[r].get('/api/projects')).body.items as { id: string; name: string }[]).map((p) => p.id);
      expect(await names('outsider')).not.toContain(projectId);
      expect((await clients.outsider.get('/api/projects')).body.items.map((p: { name: string }) => p.name)).toEqual(['Project B']);
      for (const r of ['manager', 'annotator', 'annotator2', 'reviewer', 'viewer', 'admin'] as const) expect(await names(r)).toContain(projectId);
      expect(await names('manager')).toHaveLength(1);
    });

    it('removing a member takes effect at once', async () => {
      expect((await clients.manager.delete(`/api/projects/${projectId}/members/${ids.viewer}`)).status).toBe(204);
      expect((await clients.viewer.get(`/api/projects/${projectId}`)).status).toBe(404);
      expect((await clients.viewer.get(`/api/assets/${asset1}/media`)).status).toBe(404);
      expect((await clients.viewer.get('/api/projects')).body.items).toEqual([]);
    });
  });
});
