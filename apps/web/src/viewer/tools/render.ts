// Canvas drawing for the annotation layer. Paths are built once per object in PLANE
// coordinates (Path2D, cached by object identity) and merged per label colour, so a camera
// change only sets the transform (`view.applyTo`) and strokes a handful of merged paths: no
// per-frame vertex loops, whatever the number of objects.

import { decodeRle } from '@caliper/core';
import type { AnyObject } from '../../types';
import type { ViewTransform } from '../types';
import type { MaskRle } from './mask';
import type { PlaneGeom, Pt } from './model';

export const DEFAULT_COLOR = '#f5c542';

const pathCache = new WeakMap<PlaneGeom, Path2D>();

/** Append the geometry's outlines and ellipses (plane coordinates) to a path. */
export function appendGeometry(p: Path2D, g: PlaneGeom): void {
  for (const o of g.outlines) {
    const first = o.pts[0];
    if (!first) continue;
    p.moveTo(first[0], first[1]);
    for (let i = 1; i < o.pts.length; i++) p.lineTo(o.pts[i]![0], o.pts[i]![1]);
    if (o.closed) p.closePath();
  }
  for (const e of g.ellipses) {
    const r = e.rotation ?? 0;
    p.moveTo(e.cx + e.rx * Math.cos(r), e.cy + e.rx * Math.sin(r));
    p.ellipse(e.cx, e.cy, e.rx, e.ry, r, 0, 2 * Math.PI);
  }
}

/** The geometry as one Path2D in plane coordinates (cached per geometry). */
export function pathOf(g: PlaneGeom): Path2D {
  let p = pathCache.get(g);
  if (p) return p;
  p = new Path2D();
  appendGeometry(p, g);
  pathCache.set(g, p);
  return p;
}

/** Objects per chunk of merged paths: an edit rebuilds only the chunk(s) it touches. */
const CHUNK = 512;

/** Merged paths: for each chunk of consecutive objects, one Path2D per colour. */
export type MergedChunks = readonly ReadonlyMap<string, Path2D>[];

/**
 * Merged outline paths in plane coordinates, one per colour per chunk of 512 objects. Camera
 * changes never rebuild them. A changed object (same list length) rebuilds its chunk only; an
 * insertion or removal rebuilds the chunks from there on (an append: the last chunk). `null`
 * entries keep a slot empty (the object being dragged) without shifting the others. Built
 * straight from the cached plane geometry. The returned array is new whenever anything changed.
 */
export class MergedPaths {
  private included: (AnyObject | null)[] = [];
  private colors: (string | null)[] = [];
  private chunks: Map<string, Path2D>[] = [];
  private token: unknown = undefined;

  get(objects: readonly (AnyObject | null)[], geom: (o: AnyObject) => PlaneGeom, colorOf: (o: AnyObject) => string, token: unknown): MergedChunks {
    const colors = objects.map((o) => (o ? colorOf(o) : null));
    const nChunks = Math.ceil(objects.length / CHUNK);
    const dirty = new Set<number>();
    if (token !== this.token) for (let c = 0; c < nChunks; c++) dirty.add(c);
    else if (objects.length === this.included.length) {
      for (let i = 0; i < objects.length; i++) {
        if (objects[i] !== this.included[i] || colors[i] !== this.colors[i]) dirty.add(Math.floor(i / CHUNK));
      }
    } else {
      let first = 0;
      const n = Math.min(objects.length, this.included.length);
      while (first < n && objects[first] === this.included[first] && colors[first] === this.colors[first]) first++;
      for (let c = Math.floor(first / CHUNK); c < nChunks; c++) dirty.add(c);
    }
    if (dirty.size === 0 && this.chunks.length === nChunks) return this.chunks;
    const chunks = this.chunks.slice(0, nChunks);
    for (const c of dirty) {
      const m = new Map<string, Path2D>();
      for (let i = c * CHUNK; i < Math.min(objects.length, (c + 1) * CHUNK); i++) {
        const o = objects[i];
        const color = colors[i];
        if (!o || !color) continue;
        let path = m.get(color);
        if (!path) m.set(color, (path = new Path2D()));
        appendGeometry(path, geom(o));
      }
      chunks[c] = m;
    }
    this.included = objects.slice();
    this.colors = colors;
    this.token = token;
    this.chunks = chunks;
    return chunks;
  }
}

/** Parse "#rgb" / "#rrggbb" to [r, g, b]. */
export function rgbOf(color: string): [number, number, number] {
  let h = color.trim().replace(/^#/, '');
  if (h.length === 3) h = h.split('').map((c) => c + c).join('');
  const n = Number.parseInt(h.slice(0, 6), 16);
  if (!Number.isFinite(n) || h.length < 6) return [245, 197, 66];
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const maskCache = new WeakMap<MaskRle, { color: string; canvas: HTMLCanvasElement }>();

/** A canvas of the mask's size with the set pixels in `color` (alpha ~45 %), cached per RLE. */
export function maskCanvas(rle: MaskRle, color: string): HTMLCanvasElement {
  const hit = maskCache.get(rle);
  if (hit && hit.color === color) return hit.canvas;
  const [height, width] = rle.size;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (ctx) {
    const img = ctx.createImageData(width, height);
    const [r, g, b] = rgbOf(color);
    const bits = decodeRle(rle);
    const d = img.data;
    for (let i = 0; i < bits.length; i++) {
      if (!bits[i]) continue;
      const o = i * 4;
      d[o] = r;
      d[o + 1] = g;
      d[o + 2] = b;
      d[o + 3] = 115;
    }
    ctx.putImageData(img, 0, 0);
  }
  maskCache.set(rle, { color, canvas });
  return canvas;
}

/** Working canvas of a brush stroke: updates the dirty rectangle from the bitmap. */
export class BrushCanvas {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D | null;
  private readonly img: ImageData | null;
  private readonly rgb: [number, number, number];

  constructor(
    private readonly bitmap: Uint8Array,
    private readonly width: number,
    private readonly height: number,
    color: string,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx = this.canvas.getContext('2d');
    this.img = this.ctx ? this.ctx.createImageData(width, height) : null;
    this.rgb = rgbOf(color);
    this.update(0, 0, width, height);
  }

  /** Refresh pixels [x0, x1) x [y0, y1) from the bitmap. */
  update(x0: number, y0: number, x1: number, y1: number): void {
    if (!this.ctx || !this.img) return;
    const ax = Math.max(0, Math.floor(x0));
    const ay = Math.max(0, Math.floor(y0));
    const bx = Math.min(this.width, Math.ceil(x1));
    const by = Math.min(this.height, Math.ceil(y1));
    if (bx <= ax || by <= ay) return;
    const d = this.img.data;
    const [r, g, b] = this.rgb;
    for (let y = ay; y < by; y++) {
      for (let x = ax; x < bx; x++) {
        const i = y * this.width + x;
        const o = i * 4;
        if (this.bitmap[i]) {
          d[o] = r;
          d[o + 1] = g;
          d[o + 2] = b;
          d[o + 3] = 140;
        } else d[o + 3] = 0;
      }
    }
    this.ctx.putImageData(this.img, 0, 0, ax, ay, bx - ax, by - ay);
  }
}

/** Reset to CSS-pixel screen space (device pixel ratio only). */
export function screenSpace(ctx: CanvasRenderingContext2D, dpr: number): void {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}

export function drawHandle(ctx: CanvasRenderingContext2D, p: Pt, color: string, emphasis = false): void {
  const s = emphasis ? 8 : 7;
  ctx.fillStyle = '#ffffff';
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.fillRect(p[0] - s / 2, p[1] - s / 2, s, s);
  ctx.strokeRect(p[0] - s / 2, p[1] - s / 2, s, s);
}

export function drawMarker(ctx: CanvasRenderingContext2D, p: Pt, color: string, cross = false): void {
  ctx.beginPath();
  ctx.arc(p[0], p[1], 4, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 1.25;
  ctx.strokeStyle = 'rgba(0,0,0,0.7)';
  ctx.stroke();
  if (cross) {
    ctx.beginPath();
    ctx.moveTo(p[0] - 8, p[1]);
    ctx.lineTo(p[0] - 5, p[1]);
    ctx.moveTo(p[0] + 5, p[1]);
    ctx.lineTo(p[0] + 8, p[1]);
    ctx.moveTo(p[0], p[1] - 8);
    ctx.lineTo(p[0], p[1] - 5);
    ctx.moveTo(p[0], p[1] + 5);
    ctx.lineTo(p[0], p[1] + 8);
    ctx.strokeStyle = color;
    ctx.stroke();
  }
}

/** Text with a dark halo, in screen space. */
export function drawLabelText(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, color = '#ffffff'): void {
  ctx.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.lineJoin = 'round';
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0,0,0,0.85)';
  ctx.strokeText(text, x, y);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

/** The view's transform (plane → device pixels) is set by the viewport; lines stay ~constant on screen. */
export function planeSpace(ctx: CanvasRenderingContext2D, view: Pick<ViewTransform, 'applyTo' | 'camera'>, cssLineWidth: number): void {
  view.applyTo(ctx);
  ctx.lineWidth = cssLineWidth / Math.max(1e-6, view.camera.zoom);
}

/** A 2D affine in canvas order: x' = a x + c y + e, y' = b x + d y + f. */
export type Affine2D = [number, number, number, number, number, number];

/** The plane → screen affine of a view, sampled from `toScreen` (the contract makes it affine). */
export function affineOf(toScreen: (x: number, y: number) => [number, number]): Affine2D {
  const o = toScreen(0, 0);
  const ux = toScreen(1, 0);
  const uy = toScreen(0, 1);
  return [ux[0] - o[0], ux[1] - o[1], uy[0] - o[0], uy[1] - o[1], o[0], o[1]];
}

export function invertAffine2D(m: Affine2D): Affine2D {
  const [a, b, c, d, e, f] = m;
  const det = a * d - b * c;
  if (det === 0) return [1, 0, 0, 1, 0, 0];
  return [d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det];
}

/** m1 after m2 (apply m2 first). */
export function multiplyAffine2D(m1: Affine2D, m2: Affine2D): Affine2D {
  const [a1, b1, c1, d1, e1, f1] = m1;
  const [a2, b2, c2, d2, e2, f2] = m2;
  return [a1 * a2 + c1 * b2, b1 * a2 + d1 * b2, a1 * c2 + c1 * d2, b1 * c2 + d1 * d2, a1 * e2 + c1 * f2 + e1, b1 * e2 + d1 * f2 + f1];
}

export function applyAffine2D(m: Affine2D, x: number, y: number): [number, number] {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

const sameAffine = (a: Affine2D, b: Affine2D): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= 1e-9 * Math.max(1, Math.abs(v)));

/** Content of the retained layer: merged outline paths per colour and mask bitmaps. */
export interface LayerContent {
  paths: MergedChunks;
  masks: { canvas: HTMLCanvasElement; key: unknown }[];
  /** Line width in CSS px. */
  lineWidth: number;
}

/**
 * The heavy part of the annotation layer (all unselected outlines and masks) rendered into an
 * offscreen canvas covering the viewport plus a margin. When re-rendering is cheap it happens on
 * every camera change (always sharp). When it is not (thousands of objects on a software
 * rasteriser), camera changes re-use the bitmap under the new transform and a sharp render
 * follows once the camera has been still for a moment (`settleMs`).
 */
export class RetainedLayer {
  private canvas: HTMLCanvasElement | null = null;
  private a0: Affine2D | null = null;
  private content: LayerContent | null = null;
  private size = { w: 0, h: 0, dpr: 1, mx: 0, my: 0 };
  private stale = true;
  /** Milliseconds of the last full render including its rasterisation. */
  lastRenderMs = 0;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly cheapMs = 12,
    private readonly settleMs = 140,
    private readonly margin = 0.25,
  ) {}

  invalidate(): void {
    this.stale = true;
  }

  dispose(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    this.canvas = null;
  }

  /**
   * Draw the layer onto `ctx` for the current view (plane → screen affine `a1`, CSS size w x h).
   * `onSettle` is called when a sharp re-render is due after camera motion.
   */
  draw(ctx: CanvasRenderingContext2D, content: LayerContent, a1: Affine2D, w: number, h: number, dpr: number, onSettle: () => void): void {
    const sameContent =
      this.content !== null &&
      this.content.paths === content.paths &&
      this.content.lineWidth === content.lineWidth &&
      this.content.masks.length === content.masks.length &&
      this.content.masks.every((m, i) => m.key === content.masks[i]!.key && m.canvas === content.masks[i]!.canvas);
    const sizeOk = this.size.w === w && this.size.h === h && this.size.dpr === dpr;
    let render = this.stale || !sameContent || !sizeOk || !this.canvas || !this.a0;
    if (!render && !sameAffine(this.a0!, a1)) {
      // Cheap layers re-render on every camera change. Expensive ones keep moving the last
      // bitmap (also when a zoom-out leaves its edges uncovered, or a zoom-in softens it) and
      // re-render sharp once the camera has been still for `settleMs`: a synchronous re-render
      // of 10,000 outlines on a software rasteriser takes longer than a frame.
      if (this.lastRenderMs < this.cheapMs) render = true;
      else {
        if (this.settleTimer) clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => {
          this.settleTimer = null;
          this.stale = true;
          onSettle();
        }, this.settleMs);
      }
    }
    const t0 = performance.now();
    if (render) this.render(content, a1, w, h, dpr);
    const t = multiplyAffine2D(a1, invertAffine2D(this.a0!));
    ctx.setTransform(dpr * t[0], dpr * t[1], dpr * t[2], dpr * t[3], dpr * t[4], dpr * t[5]);
    ctx.imageSmoothingEnabled = !render;
    const { mx, my } = this.size;
    ctx.drawImage(this.canvas!, -mx, -my, w + 2 * mx, h + 2 * my);
    ctx.imageSmoothingEnabled = true;
    if (render) this.lastRenderMs = performance.now() - t0;
  }

  private render(content: LayerContent, a: Affine2D, w: number, h: number, dpr: number): void {
    const mx = Math.round(w * this.margin);
    const my = Math.round(h * this.margin);
    if (!this.canvas) this.canvas = document.createElement('canvas');
    const cw = Math.max(1, Math.round((w + 2 * mx) * dpr));
    const ch = Math.max(1, Math.round((h + 2 * my) * dpr));
    if (this.canvas.width !== cw || this.canvas.height !== ch) {
      this.canvas.width = cw;
      this.canvas.height = ch;
    }
    const c = this.canvas.getContext('2d');
    if (!c) return;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.clearRect(0, 0, cw, ch);
    c.setTransform(dpr * a[0], dpr * a[1], dpr * a[2], dpr * a[3], dpr * (a[4] + mx), dpr * (a[5] + my));
    c.imageSmoothingEnabled = false;
    for (const m of content.masks) c.drawImage(m.canvas, 0, 0);
    const zoom = Math.sqrt(Math.abs(a[0] * a[3] - a[1] * a[2])) || 1;
    c.lineWidth = content.lineWidth / zoom;
    c.lineJoin = 'round';
    for (const chunk of content.paths) {
      for (const [color, path] of chunk) {
        c.strokeStyle = color;
        c.stroke(path);
      }
    }
    this.a0 = a;
    this.content = content;
    this.size = { w, h, dpr, mx, my };
    this.stale = false;
  }
}

/**
 * A viewport overlay canvas sized to the view in device pixels and cleared, with an identity
 * transform; null when the canvas has no 2D context.
 */
export function clearedOverlay(canvas: HTMLCanvasElement, width: number, height: number): { ctx: CanvasRenderingContext2D; dpr: number } | null {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, dpr };
}
