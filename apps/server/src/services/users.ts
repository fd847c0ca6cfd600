import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hashPassword, hmacHex, randomToken, sha256Hex, verifyPassword } from '../auth/crypto.js';
import type { Database, Db } from '../db/index.js';
import type { Actor, Deps } from '../deps.js';
import { badRequest, conflict, notFound, unauthorized } from '../errors.js';
import { appendAudit } from './audit.js';
import type { UsersTable } from '../db/schema.js';

export interface UserView {
  id: string;
  email: string;
  name: string;
  systemRole: 'admin' | 'user';
  active: boolean;
  createdAt: string;
}

export const toUserView = (u: UsersTable): UserView => ({
  id: u.id,
  email: u.email,
  name: u.name,
  systemRole: u.system_role,
  active: Boolean(u.active),
  createdAt: u.created_at,
});

export const SESSION_COOKIE = 'caliper_session';
const SESSION_DAYS = 7;
export const MIN_PASSWORD = 10;

const normEmail = (email: string) => email.trim().toLowerCase();

export async function createUser(
  deps: Deps,
  actorId: string | null,
  input: { email: string; name: string; password: string; systemRole: 'admin' | 'user' },
  ip: string | null = null,
): Promise<UserView> {
  if (input.password.length < MIN_PASSWORD) throw badRequest(`The password must be at least ${MIN_PASSWORD} characters.`);
  const email = normEmail(input.email);
  const now = deps.clock.now().toISOString();
  const row: UsersTable = {
    id: randomUUID(),
    email,
    name: input.name.trim() || email,
    password_hash: await hashPassword(input.password),
    system_role: input.systemRole,
    active: 1,
    created_at: now,
    updated_at: now,
  };
  await deps.db.transaction().execute(async (trx) => {
    const exists = await trx.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (exists) throw conflict('A user with this email address already exists.');
    await trx.insertInto('users').values(row).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId,
      action: 'user.create',
      targetType: 'user',
      targetId: row.id,
      ip,
      details: { systemRole: row.system_role },
    });
  });
  return toUserView(row);
}

/** Creates the first admin when the database has no users. Returns the generated password, if any. */
export async function seedAdmin(deps: Deps, email: string, password: string | undefined, generate: () => string) {
  const any = await deps.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const pw = password ?? generate();
  await createUser(deps, null, { email, name: 'Administrator', password: pw, systemRole: 'admin' });
  return { email: normEmail(email), password: pw, generated: password === undefined };
}

export async function updateUser(
  deps: Deps,
  actor: Actor,
  userId: string,
  patch: { name?: string; systemRole?: 'admin' | 'user'; active?: boolean },
): Promise<UserView> {
  return deps.db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!user) throw notFound('User');
    if (userId === actor.id && (patch.active === false || patch.systemRole === 'user')) {
      throw badRequest('You cannot deactivate yourself or remove your own admin role.');
    }
    const next = {
      name: patch.name?.trim() || user.name,
      system_role: patch.systemRole ?? user.system_role,
      active: patch.active === undefined ? user.active : patch.active ? 1 : 0,
      updated_at: deps.clock.now().toISOString(),
    };
    await trx.updateTable('users').set(next).where('id', '=', userId).execute();
    if (next.active === 0) await endSessions(trx, userId);
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'user.update',
      targetType: 'user',
      targetId: userId,
      ip: actor.ip,
      details: { systemRole: next.system_role, active: Boolean(next.active) },
    });
    return toUserView({ ...user, ...next });
  });
}

async function endSessions(trx: Kysely<Database>, userId: string) {
  await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

export async function setPassword(deps: Deps, actor: Actor, userId: string, password: string, action: string) {
  if (password.length < MIN_PASSWORD) throw badRequest(`The password must be at least ${MIN_PASSWORD} characters.`);
  const passwordHash = await hashPassword(password);
  await deps.db.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: deps.clock.now().toISOString() })
      .where('id', '=', userId)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw notFound('User');
    // Every other session of that user ends; the caller's own session survives a self-change.
    let del = trx.deleteFrom('sessions').where('user_id', '=', userId);
    if (actor.id === userId && actor.via === 'session') del = del.where('id_hash', '!=', actor.credentialHash);
    await del.execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action, targetType: 'user', targetId: userId, ip: actor.ip });
  });
}

export async function changeOwnPassword(deps: Deps, actor: Actor, current: string, next: string) {
  const user = await deps.db.selectFrom('users').select('password_hash').where('id', '=', actor.id).executeTakeFirstOrThrow();
  if (!(await verifyPassword(user.password_hash, current))) throw badRequest('The current password is not correct.');
  await setPassword(deps, actor, actor.id, next, 'user.password.change');
}

// A fixed hash so unknown emails cost the same time as wrong passwords.
let dummyHash: Promise<string> | null = null;

export async function login(deps: Deps, email: string, password: string, ip: string | null) {
  const user = await deps.db.selectFrom('users').selectAll().where('email', '=', normEmail(email)).executeTakeFirst();
  dummyHash ??= hashPassword('not-a-real-password');
  const ok = await verifyPassword(user?.password_hash ?? (await dummyHash), password);
  if (!user || !ok || !user.active) {
    await deps.db.transaction().execute((trx) =>
      appendAudit(trx, deps.dbKind, deps.clock, {
        actorId: user?.id ?? null,
        action: 'auth.login.failed',
        ip,
        details: { reason: !user ? 'unknown-user' : !ok ? 'wrong-password' : 'inactive' },
      }),
    );
    throw unauthorized('The email or password is not correct, or the account is deactivated.');
  }
  const token = randomToken();
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    // Expired sessions of this user are removed as they sign in again.
    await trx.deleteFrom('sessions').where('user_id', '=', user.id).where('expires_at', '<=', now.toISOString()).execute();
    await trx
      .insertInto('sessions')
      .values({
        id_hash: sha256Hex(token),
        user_id: user.id,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + SESSION_DAYS * 86400_000).toISOString(),
      })
      .execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: user.id, action: 'auth.login', targetType: 'user', targetId: user.id, ip });
  });
  return { token, user: toUserView(user), maxAgeSeconds: SESSION_DAYS * 86400 };
}

export async function logout(deps: Deps, actor: Actor) {
  await deps.db.transaction().execute(async (trx) => {
    if (actor.via === 'session') await trx.deleteFrom('sessions').where('id_hash', '=', actor.credentialHash).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'auth.logout', ip: actor.ip });
  });
}

/** Resolves a session cookie or bearer token to an active user. */
export async function authenticate(
  deps: Deps,
  cred: { kind: 'session' | 'token'; secret: string },
  ip: string | null,
): Promise<Actor | null> {
  const h = sha256Hex(cred.secret);
  const now = deps.clock.now().toISOString();
  const userCols = ['u.id', 'u.email', 'u.name', 'u.system_role', 'u.active'] as const;
  let u: { id: string; email: string; name: string; system_role: 'admin' | 'user'; active: number } | undefined;
  if (cred.kind === 'session') {
    // One query: the session and its user.
    const s = await deps.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([...userCols, 's.expires_at'])
      .where('s.id_hash', '=', h)
      .executeTakeFirst();
    if (!s || s.expires_at <= now) return null;
    u = s;
  } else {
    const t = await deps.db
      .selectFrom('api_tokens as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select([...userCols, 't.id as token_id', 't.revoked_at', 't.last_used_at'])
      .where('t.token_hash', '=', h)
      .executeTakeFirst();
    if (!t || t.revoked_at) return null;
    // Record use at most once a minute to keep reads cheap.
    if (!t.last_used_at || Date.parse(now) - Date.parse(t.last_used_at) > 60_000) {
      await deps.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', t.token_id).execute();
    }
    u = t;
  }
  if (!u.active) return null;
  return { id: u.id, email: u.email, name: u.name, systemRole: u.system_role, via: cred.kind, credentialHash: h, ip };
}

export const csrfTokenFor = (secret: string, sessionHash: string) => hmacHex(secret, `csrf:${sessionHash}`);

export async function createToken(deps: Deps, actor: Actor, name: string) {
  const token = randomToken('cal_');
  const row = {
    id: randomUUID(),
    user_id: actor.id,
    name: name.trim(),
    token_hash: sha256Hex(token),
    created_at: deps.clock.now().toISOString(),
    last_used_at: null,
    revoked_at: null,
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('api_tokens').values(row).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'token.create', targetType: 'token', targetId: row.id, ip: actor.ip });
  });
  return { id: row.id, name: row.name, token, createdAt: row.created_at };
}

export async function listTokens(db: Db, userId: string) {
  const rows = await db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at }));
}

export async function revokeToken(deps: Deps, actor: Actor, tokenId: string) {
  await deps.db.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: deps.clock.now().toISOString() })
      .where('id', '=', tokenId)
      .where('user_id', '=', actor.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw notFound('Token');
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'token.revoke', targetType: 'token', targetId: tokenId, ip: actor.ip });
  });
}
