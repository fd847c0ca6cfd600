// Where does the time of one annotation save go? Times each phase of the save path in-process,
// one call at a time (no concurrency, so no queueing), for documents of different sizes, using
// the server's own built modules; then the service alone under 200-way concurrency (no HTTP).
//
//   node bench/profile-saves.mjs               # SQLite and PostgreSQL
//   BENCH_DBS=sqlite node bench/profile-saves.mjs
//
// Phases (same code the route runs, in the same order):
//   http         PUT over loopback with fetch (one client, sequential)
//   inject       the same request through app.inject (Fastify + service, no socket)
//   json.parse   JSON.parse of the request body (what Fastify's body parser does)
//   auth         authenticate() for a Bearer token (token + user lookup)
//   access       requireJobAsset(): one query for job, membership, asset-in-job and label schema text
//   schema       JSON.parse of the label schema (the server caches it per project)
//   validate     validateDocument() (zod parse of the whole document + label/attribute checks)
//     zod only   annotationDocumentSchema.safeParse() alone
//   stringify    JSON.stringify of the validated document
//   write tx     the transaction: update head, insert revision, jobs state check, appendAudit,
//                followed by the time of each statement in it (means only)
//   service      saveAnnotations() as a whole (access + schema + validate + stringify + write tx)
//   bare write   the bare route's single upsert of the raw body
import path from 'node:path';
import { sql } from 'kysely';
import { root } from './common.mjs';
import { makeDocument, setupAnnotators, startBenchServer } from './fixture.mjs';

const DBS = (process.env.BENCH_DBS ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const ITERATIONS = Math.max(10, Math.min(2000, Number(process.env.BENCH_ITERATIONS ?? 200)));
const SIZES_KB = [5, 15, 30, 50];
const dist = (p) => path.join(root, 'apps/server/dist', p);
const { authenticate } = await import(dist('services/users.js'));
const { requireJobAsset } = await import(dist('policy.js'));
const { saveAnnotations } = await import(dist('services/annotations.js'));
const { appendAudit } = await import(dist('services/audit.js'));
const core = await import('@caliper/core');

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Mean and p99 in ms of `fn` over ITERATIONS calls after a short warm-up (bounded). */
async function time(fn) {
  for (let i = 0; i < Math.min(30, ITERATIONS); i++) await fn(i);
  const xs = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t = nowMs();
    await fn(i + 30);
    xs.push(nowMs() - t);
  }
  xs.sort((a, b) => a - b);
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p50: xs[Math.floor(xs.length / 2)], p99: xs[Math.ceil(xs.length * 0.99) - 1] };
}

async function profile(kind) {
  const bench = await startBenchServer(kind);
  try {
    const { app, deps, db, url } = bench;
    const { users } = await setupAnnotators(url, { count: SIZES_KB.length + 1, auth: 'token' });
    const rows = [];
    for (const [i, kb] of SIZES_KB.entries()) {
      const u = users[i];
      const docObj = makeDocument(5000 + i, u.userId, kb * 1024);
      const doc = JSON.stringify(docObj);
      const apiPath = `/api/jobs/${u.jobId}/assets/${u.assetId}/annotations`;
      const token = u.headers.authorization.slice(7);
      const actor = await authenticate(deps, { kind: 'token', secret: token }, '127.0.0.1');
      let rev = 0;
      const body = () => `{"baseRevision":${rev},"document":${doc}}`;
      const r = {};
      r.http = await time(async () => {
        const res = await fetch(url + apiPath, { method: 'PUT', headers: { ...u.headers, 'content-type': 'application/json' }, body: body() });
        const j = await res.json();
        if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(j)}`);
        rev = j.revision;
      });
      r.inject = await time(async () => {
        const res = await app.inject({ method: 'PUT', url: apiPath, headers: { ...u.headers, 'content-type': 'application/json' }, payload: body() });
        if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
        rev = res.json().revision;
      });
      const text = body();
      r['json.parse'] = await time(() => JSON.parse(text));
      r.auth = await time(() => authenticate(deps, { kind: 'token', secret: token }, '127.0.0.1'));
      r.access = await time(() => requireJobAsset(db, actor, u.jobId, u.assetId, 'annotate'));
      const { labelSchemaText } = await requireJobAsset(db, actor, u.jobId, u.assetId, 'annotate');
      r.schema = await time(() => JSON.parse(labelSchemaText));
      const schema = JSON.parse(labelSchemaText);
      const input = JSON.parse(doc);
      r.validate = await time(() => {
        const c = core.validateDocument(input, schema);
        if (!c.ok) throw new Error(JSON.stringify(c.issues.slice(0, 3)));
      });
      r['  zod only'] = await time(() => core.annotationDocumentSchema.safeParse(input));
      const checked = core.validateDocument(input, schema).document;
      r.stringify = await time(() => JSON.stringify(checked));
      const stored = JSON.stringify(checked);
      // The transaction, with the time of each statement (sum of the laps = the tx time).
      const laps = {};
      let recording = false;
      r['write tx'] = await time(async (k) => {
        recording = k >= 30; // time() warms up with k < 30
        let t = nowMs();
        const lap = (name) => {
          const n = nowMs();
          if (recording) laps[name] = (laps[name] ?? 0) + (n - t);
          t = n;
        };
        const at = new Date().toISOString();
        const next = rev + 1;
        await db.transaction().execute(async (trx) => {
          lap('  begin');
          const res = await trx
            .updateTable('annotation_docs')
            .set({ revision: next, object_count: checked.objects.length, updated_at: at, updated_by: actor.id })
            .where('job_id', '=', u.jobId)
            .where('asset_id', '=', u.assetId)
            .where('revision', '=', rev)
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) !== 1) throw new Error('stale');
          lap('  update head');
          await trx
            .insertInto('annotation_revisions')
            .values({ job_id: u.jobId, asset_id: u.assetId, revision: next, document: stored, object_count: checked.objects.length, bytes: Buffer.byteLength(stored), created_at: at, created_by: actor.id })
            .execute();
          lap('  insert rev');
          await trx.updateTable('jobs').set({ state: 'in_progress', updated_at: at }).where('id', '=', u.jobId).where('state', '=', 'new').execute();
          lap('  job state');
          await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'annotation.save', targetType: 'asset', targetId: u.assetId, ip: null, details: { jobId: u.jobId, revision: next, objects: checked.objects.length } });
          lap('  audit');
        });
        lap('  commit');
        rev = next;
      });
      for (const [name, total] of Object.entries(laps)) r[name] = { mean: total / ITERATIONS, p50: NaN, p99: NaN };
      r.service = await time(async () => {
        const out = await saveAnnotations(deps, actor, u.jobId, u.assetId, { baseRevision: rev, document: input });
        rev = out.revision;
      });
      const key = `profile-${i}`;
      r['bare write'] = await time(async () => {
        const at = new Date().toISOString();
        await sql`insert into bench_writes (id, body, created_at) values (${key}, ${text}, ${at})
                  on conflict (id) do update set body = excluded.body, created_at = excluded.created_at`.execute(db);
      });
      // Fastify's bare route end to end, for the same body (loopback, sequential).
      r['bare http'] = await time(async () => {
        const res = await fetch(`${url}/bench/bare/${key}`, { method: 'PUT', headers: { ...u.headers, 'content-type': 'application/json' }, body: text });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(String(res.status));
      });
      rows.push({ kb: Buffer.byteLength(doc) / 1024, objects: docObj.objects.length, vertices: docObj.objects.reduce((a, o) => a + (o.points?.length ?? 0), 0), r });
    }

    const conc = await concurrentService(deps, db, users);
    return { kind, rows, conc };
  } finally {
    await bench.close();
  }
}

/**
 * Two capacity numbers without HTTP: saveAnnotations() back to back on one asset (= 1 / service
 * time), and the audit append alone with 200 concurrent transactions (on PostgreSQL every save
 * holds the single audit_head row lock from SELECT … FOR UPDATE until commit, which bounds the
 * save throughput however many connections there are).
 */
async function concurrentService(deps, db, users) {
  const u = users[users.length - 1];
  const actor = await authenticate(deps, { kind: 'token', secret: u.headers.authorization.slice(7) }, '127.0.0.1');
  const doc = makeDocument(7777, u.userId, 27 * 1024);
  let rev = (await db.selectFrom('annotation_docs').select('revision').where('job_id', '=', u.jobId).executeTakeFirst())?.revision ?? 0;
  const t0 = nowMs();
  let n = 0;
  while (nowMs() - t0 < 3000 && n < 100_000) {
    rev = (await saveAnnotations(deps, actor, u.jobId, u.assetId, { baseRevision: rev, document: doc })).revision;
    n++;
  }
  const sequentialPerS = n / ((nowMs() - t0) / 1000);
  let m = 0;
  const t1 = nowMs();
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      for (let k = 0; k < 100_000 && nowMs() - t1 < 3000; k++) {
        await db.transaction().execute((trx) => appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'bench.audit', targetType: 'asset', targetId: u.assetId, ip: null, details: {} }));
        m++;
      }
    }),
  );
  const auditPerS = m / ((nowMs() - t1) / 1000);
  return { sequentialPerS, auditPerS };
}

const f = (v) => (Number.isNaN(v) ? '–' : v < 0.1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));
for (const kind of DBS) {
  console.log(`\n[${kind}] phase times, ms (mean / p99 over ${ITERATIONS} sequential calls)`);
  const { rows, conc } = await profile(kind);
  const phases = Object.keys(rows[0].r);
  console.log(['phase'.padEnd(12), ...rows.map((x) => `${x.kb.toFixed(0)} KB, ${x.objects} obj, ${x.vertices} vtx`.padStart(26))].join(' | '));
  for (const p of phases) console.log([p.padEnd(12), ...rows.map((x) => `${f(x.r[p].mean)} / ${f(x.r[p].p99)}`.padStart(26))].join(' | '));
  console.log(`[${kind}] saveAnnotations() back to back on one asset (27 KB): ${conc.sequentialPerS.toFixed(0)} saves/s; audit append alone, 200 concurrent: ${conc.auditPerS.toFixed(0)} tx/s`);
}
