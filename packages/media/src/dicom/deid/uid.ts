import { createHash, createHmac } from 'node:crypto';

/** Root of the UIDs defined by the DICOM standard itself (SOP classes, transfer syntaxes, ...). */
const DICOM_ROOT = '1.2.840.10008.';

/** True for UIDs defined by the standard, which carry no identity and must not be remapped. */
export function isWellKnownUid(uid: string): boolean {
  return uid.startsWith(DICOM_ROOT);
}

/**
 * Deterministic replacement UID: `2.25.<decimal of the first 128 bits of
 * HMAC-SHA256(secret, projectId + ':' + originalUid)>`. Same input, same output; a different
 * secret or project gives an unrelated UID. At most 44 characters, within the 64 allowed.
 */
export function remapUid(uid: string, secret: string, projectId: string): string {
  const digest = createHmac('sha256', secret).update(`${projectId}:${uid}`).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString(10)}`;
}

/** Patient pseudonym: first 16 hex chars of HMAC-SHA256(secret, 'patient:' + projectId + ':' + patientId). */
export function patientPseudonym(patientId: string, secret: string, projectId: string): string {
  return createHmac('sha256', secret).update(`patient:${projectId}:${patientId}`).digest('hex').slice(0, 16);
}

/** A fixed `2.25.` UID derived from a name (first 128 bits of its SHA-256). */
export function uuidDerivedUid(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString(10)}`;
}
