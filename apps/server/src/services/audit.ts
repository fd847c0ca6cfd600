import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, Db, DbKind } from '../db/index.js';

export interface AuditEvent {
  actorId: string | null;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  /** Identifiers and counts only: never names, file names or other PHI. */
  details?: Record<string, string | number | boolean | null>;
}

const GENESIS = '0'.repeat(64);

function entryHash(prevHash: string, e: { seq: number; at: string; actor_id: string | null; action: string; target_type: string | null; target_id: string | null; ip: string | null; details: string }): string {
  const canonical = JSON.stringify([e.seq, e.at, e.actor_id, e.action, e.target_type, e.target_id, e.ip, e.details]);
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex');
}

/**
 * Appends one entry to the hash-chained audit log. Must run inside the caller's transaction so
 * the entry commits (or not) with the change it records. The single audit_head row is locked
 * on PostgreSQL so concurrent writers cannot fork the chain (SQLite has one writer anyway).
 */
export async function appendAudit(trx: Kysely<Database>, kind: DbKind, clock: Clock, event: AuditEvent): Promise<void> {
  let q = trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
  if (kind === 'postgres') q = q.forUpdate();
  const head = await q.executeTakeFirstOrThrow();
  const row = {
    seq: Number(head.seq) + 1,
    at: clock.now().toISOString(),
    actor_id: event.actorId,
    action: event.action,
    target_type: event.targetType ?? null,
    target_id: event.targetId ?? null,
    ip: event.ip ?? null,
    details: JSON.stringify(event.details ?? {}),
  };
  const hash = entryHash(head.hash, row);
  await trx.insertInto('audit_log').values({ ...row, prev_hash: head.hash, hash }).execute();
  await trx.updateTable('audit_head').set({ seq: row.seq, hash }).where('id', '=', 1).execute();
}

export async function audit(db: Db, kind: DbKind, clock: Clock, event: AuditEvent): Promise<void> {
  await db.transaction().execute((trx) => appendAudit(trx, kind, clock, event));
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBad?: { seq: number; reason: string };
}

/** Recomputes the chain from the start and reports the first entry that does not match. */
export async function verifyAudit(db: Db): Promise<AuditVerification> {
  let prev = GENESIS;
  let expectedSeq = 1;
  let checked = 0;
  const pageSize = 1000;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== expectedSeq) return { ok: false, checked, firstBad: { seq: expectedSeq, reason: 'entry is missing' } };
      if (r.prev_hash !== prev) return { ok: false, checked, firstBad: { seq, reason: 'link to the previous entry is broken' } };
      const h = entryHash(prev, { ...r, seq });
      if (h !== r.hash) return { ok: false, checked, firstBad: { seq, reason: 'content does not match its hash' } };
      prev = r.hash;
      expectedSeq++;
      checked++;
    }
    if (rows.length < pageSize) break;
  }
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  if (head && (Number(head.seq) !== checked || head.hash !== prev)) {
    return { ok: false, checked, firstBad: { seq: checked + 1, reason: 'entries after this point were removed' } };
  }
  return { ok: true, checked };
}
