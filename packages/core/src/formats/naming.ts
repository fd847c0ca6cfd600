/**
 * Image file names inside exported datasets: one image per plain 2D asset, per volume slice or per
 * video frame, e.g. `chest.png`, `CT chest/slice_0042.png`, `endoscopy/frame_0007.png`.
 */

// Media extensions stripped from a volume's or video's name before it becomes a folder.
const MEDIA_EXTENSIONS = /\.(nii\.gz|nii|dcm|dicom|nrrd|nhdr|mha|mhd|mgz|mp4|m4v|avi|mov|mkv|webm|mpg|mpeg|tif|tiff)$/i;
// The last extension of a plain file name (1 to 8 letters or digits, not the whole name).
const LAST_EXTENSION = /(?<=.)\.[A-Za-z0-9]{1,8}$/;

/**
 * A name safe as one path segment: no `/`, `\`, control characters, Windows-reserved characters
 * or `..`; leading dots and surrounding spaces removed; "asset" if nothing is left.
 */
export function sanitizeAssetName(name: string): string {
  const cleaned = name
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001F\u007F/\\:*?"<>|]/g, '_')
    .replace(/\.{2,}/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '');
  return cleaned === '' ? 'asset' : cleaned;
}

/** Where an image comes from within its asset: a volume slice or a video frame (neither for 2D). */
export interface ImagePlace {
  slice?: number;
  frame?: number;
  /** How many slices or frames the asset has; sets the zero padding (at least 4 digits). */
  slices?: number;
}

/**
 * The exported image name of a 2D asset (`<name without extension>.<ext>`), of slice k of a volume
 * (`<name>/slice_<k>.<ext>`) or of frame f of a video (`<name>/frame_<f>.<ext>`).
 */
export function sliceImageName(assetName: string, where: ImagePlace = {}, ext = 'png'): string {
  if (where.slice !== undefined && where.frame !== undefined) throw new RangeError('give either slice or frame, not both');
  const index = where.slice ?? where.frame;
  const cleanExt = ext.replace(/^\./, '');
  if (index === undefined) return `${sanitizeAssetName(assetName.replace(LAST_EXTENSION, ''))}.${cleanExt}`;
  if (!Number.isInteger(index) || index < 0) throw new RangeError('slice and frame must be non-negative whole numbers');
  const digits = Math.max(4, where.slices !== undefined && where.slices > 1 ? String(where.slices - 1).length : 0);
  const folder = sanitizeAssetName(assetName.replace(MEDIA_EXTENSIONS, ''));
  const part = where.slice !== undefined ? 'slice' : 'frame';
  return `${folder}/${part}_${String(index).padStart(digits, '0')}.${cleanExt}`;
}

/** The asset name and slice or frame encoded in an exported image name. */
export interface ParsedImageName {
  assetName: string;
  slice?: number;
  frame?: number;
}

/**
 * Inverse of `sliceImageName`: tolerates a leading `images/` folder, backslashes, any image
 * extension and names without a slice/frame part (then `assetName` is the name without extension).
 */
export function parseSliceImageName(fileName: string): ParsedImageName {
  const normalized = fileName.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/^images\//i, '');
  const match = /^(.+)\/(slice|frame)_(\d+)\.[A-Za-z0-9]{1,8}$/.exec(normalized);
  if (match !== null) {
    const [, assetName = '', part, digits = '0'] = match;
    const index = Number.parseInt(digits, 10);
    return part === 'slice' ? { assetName, slice: index } : { assetName, frame: index };
  }
  return { assetName: normalized.replace(LAST_EXTENSION, '') };
}
