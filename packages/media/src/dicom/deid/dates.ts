// Date shifting for the Retain Longitudinal Temporal Information Modified Dates option, and
// normalisation of legacy date/time forms (e.g. ACR-NEMA "1997.04.24") that dcmjs refuses to write.
import { createHmac } from 'node:crypto';

const MAX_SHIFT_DAYS = 3650;
const DAY_MS = 86_400_000;

/**
 * Whole-day offset for one patient: between 1 and 3650 days into the past, from
 * HMAC-SHA256(secret, 'dateshift:' + projectId + ':' + patientId). Same patient, same offset.
 */
export function dayOffset(secret: string, projectId: string, patientId: string): number {
  const digest = createHmac('sha256', secret).update(`dateshift:${projectId}:${patientId}`).digest();
  return -(1 + (digest.readUInt32BE(0) % MAX_SHIFT_DAYS));
}

function ymd(y: number, m: number, d: number): number | null {
  if (m < 1 || m > 12 || d < 1 || d > 31) return null;
  const t = Date.UTC(y, m - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return null;
  return t;
}

function fmt(t: number): string {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) return '19000101';
  return `${String(y).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** Parses DA (YYYYMMDD) or a legacy YYYY.MM.DD / YYYY-MM-DD / YYYY/MM/DD form to a UTC time. */
function parseDate(value: string): number | null {
  const v = value.trim();
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v) ?? /^(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})$/.exec(v);
  if (!m) return null;
  return ymd(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** A DA value in canonical form, or null when it cannot be read as a date. */
export function normaliseDate(value: string): string | null {
  const t = parseDate(value);
  return t === null ? null : fmt(t);
}

/** A DA value shifted by `days`, or null when it cannot be read as a date. */
export function shiftDate(value: string, days: number): string | null {
  const t = parseDate(value);
  return t === null ? null : fmt(t + days * DAY_MS);
}

const DT_RE = /^(\d{4})(\d{2})(\d{2})(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$/;

/** A DT value with its date part shifted by `days` (time and offset kept), or null. */
export function shiftDateTime(value: string, days: number): string | null {
  const m = DT_RE.exec(value.trim());
  if (!m) return null;
  const t = ymd(Number(m[1]), Number(m[2]), Number(m[3]));
  if (t === null) return null;
  return `${fmt(t + days * DAY_MS)}${m[4] ?? ''}${m[5] ?? ''}`;
}

/** A DT value checked for form (full date required), or null. */
export function normaliseDateTime(value: string): string | null {
  return shiftDateTime(value, 0);
}

/** A TM value in canonical form (legacy HH:MM:SS accepted), or null. */
export function normaliseTime(value: string): string | null {
  const v = value.trim();
  const m = /^(\d{2})(?::?(\d{2})(?::?(\d{2})(\.\d{1,6})?)?)?$/.exec(v);
  if (!m) return null;
  if (Number(m[1]) > 23 || Number(m[2] ?? 0) > 59 || Number(m[3] ?? 0) > 60) return null;
  return `${m[1]}${m[2] ?? ''}${m[3] ?? ''}${m[4] ?? ''}`;
}
