export type SanitizedName = { ok: true; name: string } | { ok: false; detail: string };

const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 1024;

/**
 * Normalise a client-supplied file name, which may be a relative folder path such as
 * `scans/a/img1.png` (from a folder upload). Backslashes become slashes, empty and `.`
 * segments are dropped and the result is NFC. Refused: absolute paths (`/x`, `C:\x`, `\\host`),
 * `..` segments, control characters, empty names, segments over 255 bytes, paths over 1024.
 */
export function sanitizeFileName(name: string): SanitizedName {
  const q = JSON.stringify(name);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, detail: `File name ${q} contains control characters` };
  const path = name.normalize('NFC').replace(/\\/g, '/');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
    return { ok: false, detail: `File name ${q} is an absolute path; send a relative name` };
  }
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, detail: `File name ${q} contains a ".." segment` };
  if (segments.length === 0 || segments.every((s) => s.trim() === '')) {
    return { ok: false, detail: 'File name is empty' };
  }
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    return { ok: false, detail: `File name ${q} has a part longer than ${MAX_SEGMENT_BYTES} bytes` };
  }
  const normalised = segments.join('/');
  if (Buffer.byteLength(normalised) > MAX_PATH_BYTES) {
    return { ok: false, detail: `File name ${q} is longer than ${MAX_PATH_BYTES} bytes` };
  }
  return { ok: true, name: normalised };
}
