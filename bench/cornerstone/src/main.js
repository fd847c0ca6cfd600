/* global window, document, requestAnimationFrame */
// Bench page: Cornerstone3D ORTHOGRAPHIC volume viewports (axial + coronal) on a synthetic
// 512×512×300 int16 CT, against a plain 2D-canvas baseline on the same Int16Array.
// Everything is timed in the page with performance.now(); run.mjs drives it and collects
// `window.bench.*` results. Query string: ?backend=cpu forces Cornerstone's CPU rendering.
import {
  RenderingEngine,
  Enums,
  init as csInit,
  volumeLoader,
  cache,
  setUseCPURendering,
  getShouldUseCPURendering,
  getRenderingCapabilities,
  getConfiguration,
  utilities as csUtils,
  version as coreVersion,
} from '@cornerstonejs/core';
import * as csTools from '@cornerstonejs/tools';

const NX = 512;
const NY = 512;
const NZ = 300;
const SPACING = [0.7, 0.7, 2.5];
const SLICE = NX * NY;
const ENGINE_ID = 'bench-engine';
// No ':' in the id: local slice ids would otherwise be taken for an image-loader scheme when
// Cornerstone looks for a default VOI (we set the VOI ourselves).
const VOLUME_ID = 'benchCt';
const SEG_ID = 'bench-seg';
const TOOL_GROUP_ID = 'bench-tools';
const SPHERE_BRUSH = 'SphereBrush';
const FOR_UID = '2.25.1000000000000000000000000000002';

const params = new URLSearchParams(window.location.search);
const statusEl = document.getElementById('status');
const setStatus = (s) => {
  statusEl.textContent = s;
};

// ---------------------------------------------------------------------------- helpers

function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return { n: 0 };
  const q = (p) => v[Math.min(n - 1, Math.floor(p * n))];
  const mean = v.reduce((s, x) => s + x, 0) / n;
  const r = (x) => Math.round(x * 100) / 100;
  return { n, mean: r(mean), p50: r(q(0.5)), p95: r(q(0.95)), max: r(v[n - 1]), min: r(v[0]) };
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));

/** Resolves with performance.now() at the next IMAGE_RENDERED of `element` (rejects after `ms`). */
function nextRendered(element, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, on);
      reject(new Error(`no IMAGE_RENDERED within ${ms} ms on #${element.id}`));
    }, ms);
    function on() {
      clearTimeout(timer);
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, on);
      resolve(performance.now());
    }
    element.addEventListener(Enums.Events.IMAGE_RENDERED, on);
  });
}

/**
 * Runs `action` (which must cause one render of `element`) and returns
 * { latency: action → IMAGE_RENDERED, work: start of that animation frame → IMAGE_RENDERED }.
 * `work` isolates the render cost from the wait for the next frame: our rAF callback is
 * registered before Cornerstone's, so it runs first in the same frame.
 */
async function timedRender(element, action) {
  let frameStart = NaN;
  requestAnimationFrame(() => {
    frameStart = performance.now();
  });
  const rendered = nextRendered(element);
  const t0 = performance.now();
  action();
  const t1 = await rendered;
  return { latency: t1 - t0, work: Number.isNaN(frameStart) || frameStart > t1 ? t1 - t0 : t1 - frameStart };
}

// ---------------------------------------------------------------------------- phantom

/** Seeded PRNG (mulberry32) so the phantom is identical in every run. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Synthetic CT in HU: air outside an elliptic body (soft tissue 40), two lungs (-850),
 * a spine (bone 700) and a 3D sphere "lesion" (90) of radius 30 mm, plus ±20 HU noise.
 * Layout: x fastest, then y, then z (slice). All values are made up; no patient data.
 */
function makePhantom() {
  const data = new Int16Array(SLICE * NZ);
  const rnd = mulberry32(42);
  const noise = new Int16Array(4096);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.round((rnd() - 0.5) * 40);
  const cx = NX / 2;
  const cy = NY / 2;
  const lesion = { x: 300, y: 230, z: 150, r: 30 };
  for (let k = 0; k < NZ; k++) {
    const zmm = (k - lesion.z) * SPACING[2];
    const bodyScale = 0.85 + 0.15 * Math.sin((Math.PI * k) / NZ);
    const ax = 220 * bodyScale;
    const ay = 160 * bodyScale;
    for (let j = 0; j < NY; j++) {
      const row = k * SLICE + j * NX;
      const dy = (j - cy) / ay;
      for (let i = 0; i < NX; i++) {
        const dx = (i - cx) / ax;
        let v = -1000;
        if (dx * dx + dy * dy <= 1) {
          v = 40;
          const lx = (Math.abs(i - cx) - 100) / 70;
          const ly = (j - cy + 10) / 110;
          if (lx * lx + ly * ly <= 1) v = -850;
          const sx = (i - cx) / 28;
          const sy = (j - (cy + 110)) / 28;
          if (sx * sx + sy * sy <= 1) v = 700;
          const ex = (i - lesion.x) * SPACING[0];
          const ey = (j - lesion.y) * SPACING[1];
          if (ex * ex + ey * ey + zmm * zmm <= lesion.r * lesion.r) v = 90;
        }
        data[row + i] = v + noise[(row + i) & 4095];
      }
    }
  }
  return data;
}

// ---------------------------------------------------------------------------- WebGL info

function webglInfo() {
  const c = document.createElement('canvas');
  const out = { webgl2: false };
  const gl = c.getContext('webgl2');
  if (!gl) return out;
  out.webgl2 = true;
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  out.vendor = dbg ? gl.getParameter(dbg.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR);
  out.renderer = dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  out.version = gl.getParameter(gl.VERSION);
  out.max3dTextureSize = gl.getParameter(gl.MAX_3D_TEXTURE_SIZE);
  out.maxTextureSize = gl.getParameter(gl.MAX_TEXTURE_SIZE);
  const exts = gl.getSupportedExtensions() ?? [];
  out.extensions = ['EXT_texture_norm16', 'OES_texture_float_linear', 'EXT_color_buffer_float'].filter((e) =>
    exts.includes(e),
  );
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return out;
}

// ---------------------------------------------------------------------------- 2D baseline

/** Linear window/level LUT over the whole int16 range, RGBA packed little-endian (ABGR). */
function buildLut(lut, center, width) {
  const lo = center - width / 2;
  const scale = 255 / width;
  for (let v = -32768; v < 32768; v++) {
    let g = (v - lo) * scale;
    g = g < 0 ? 0 : g > 255 ? 255 : g | 0;
    lut[v + 32768] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
}

function makeBaseline(data) {
  const canvas = document.getElementById('baseline');
  const ctx = canvas.getContext('2d');
  const axialImg = ctx.createImageData(NX, NY);
  const axial32 = new Uint32Array(axialImg.data.buffer);
  const corCanvas = document.createElement('canvas');
  corCanvas.width = NX;
  corCanvas.height = NZ;
  const corCtx = corCanvas.getContext('2d');
  const corImg = corCtx.createImageData(NX, NZ);
  const cor32 = new Uint32Array(corImg.data.buffer);
  const lut = new Uint32Array(65536);
  // Coronal display box: keep the mm aspect (512×0.7 wide, 300×2.5 tall) inside 512×512.
  const corH = 512;
  const corW = Math.round((512 * NX * SPACING[0]) / (NZ * SPACING[2]));

  return {
    /** Axial slice k with window (center,width): LUT build + copy + putImageData. */
    axial(k, center, width) {
      buildLut(lut, center, width);
      const off = k * SLICE;
      for (let i = 0; i < SLICE; i++) axial32[i] = lut[data[off + i] + 32768];
      ctx.putImageData(axialImg, 0, 0);
    },
    /** Coronal row j: gather 512×300 strided samples, superior at the top, scale into 512×512. */
    coronal(j, center, width) {
      buildLut(lut, center, width);
      for (let k = 0; k < NZ; k++) {
        const src = k * SLICE + j * NX;
        const dst = (NZ - 1 - k) * NX;
        for (let i = 0; i < NX; i++) cor32[dst + i] = lut[data[src + i] + 32768];
      }
      corCtx.putImageData(corImg, 0, 0);
      ctx.fillRect(0, 0, 512, 512);
      ctx.drawImage(corCanvas, (512 - corW) / 2, 0, corW, corH);
    },
  };
}

async function runBaseline(data) {
  const b = makeBaseline(data);
  const out = {};
  // Warm-up (JIT).
  for (let i = 0; i < 5; i++) {
    b.axial(150, 40, 400);
    b.coronal(256, 40, 400);
  }
  const measure = async (fn, frames) => {
    const sync = [];
    for (let f = 0; f < frames; f++) {
      const t0 = performance.now();
      fn(f);
      sync.push(performance.now() - t0);
    }
    // Paced: one update per animation frame, as an interactive drag would be.
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) {
      await nextFrame();
      fn(f);
    }
    await nextFrame();
    const paced = (performance.now() - t0) / (frames + 1);
    return { syncMsPerFrame: stats(sync), pacedMsPerFrame: Math.round(paced * 100) / 100, pacedFps: Math.round(1000 / paced) };
  };
  out.axialScroll = await measure((f) => b.axial(100 + f, 40, 400), 100);
  out.axialWindowLevel = await measure((f) => b.axial(150, 40 + f * 3, 400 + f * 5), 100);
  out.coronalScroll = await measure((f) => b.coronal(156 + f, 40, 400), 100);
  out.coronalWindowLevel = await measure((f) => b.coronal(256, 40 + f * 3, 400 + f * 5), 100);
  return out;
}

// ---------------------------------------------------------------------------- Cornerstone

const state = {};

async function setupCornerstone() {
  const t0 = performance.now();
  const rendering = {};
  if (params.get('mode') === 'tiled') rendering.renderingEngineMode = Enums.RenderingEngineModeEnum.Tiled;
  if (params.get('preferSize') === '1') rendering.preferSizeOverAccuracy = true;
  csInit({ rendering });
  if (params.get('backend') === 'cpu') setUseCPURendering(true);
  csTools.init();
  const engine = new RenderingEngine(ENGINE_ID);
  const axialEl = document.getElementById('axial');
  const coronalEl = document.getElementById('coronal');
  engine.setViewports([
    {
      viewportId: 'axial',
      type: Enums.ViewportType.ORTHOGRAPHIC,
      element: axialEl,
      defaultOptions: { orientation: Enums.OrientationAxis.AXIAL, background: [0, 0, 0] },
    },
    {
      viewportId: 'coronal',
      type: Enums.ViewportType.ORTHOGRAPHIC,
      element: coronalEl,
      defaultOptions: { orientation: Enums.OrientationAxis.CORONAL, background: [0, 0, 0] },
    },
  ]);
  Object.assign(state, { engine, axialEl, coronalEl });
  return {
    setupMs: Math.round((performance.now() - t0) * 10) / 10,
    cpuRendering: getShouldUseCPURendering(),
    renderingEngineMode: getConfiguration().rendering.renderingEngineMode,
    preferSizeOverAccuracy: getConfiguration().rendering.preferSizeOverAccuracy,
    capabilities: getRenderingCapabilities(),
  };
}

function makeMetadata() {
  return {
    BitsAllocated: 16,
    BitsStored: 16,
    SamplesPerPixel: 1,
    HighBit: 15,
    PhotometricInterpretation: 'MONOCHROME2',
    PixelRepresentation: 1,
    Modality: 'CT',
    SeriesInstanceUID: '2.25.1000000000000000000000000000001',
    ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
    PixelSpacing: [SPACING[1], SPACING[0]],
    FrameOfReferenceUID: FOR_UID,
    Columns: NX,
    Rows: NY,
    voiLut: [{ windowCenter: 40, windowWidth: 400 }],
    VOILUTFunction: 'LINEAR',
  };
}

/** Data is in memory at t0; time createLocalVolume, setVolumes and the first rendered frames. */
async function firstRender(data) {
  const { engine, axialEl, coronalEl } = state;
  const axial = engine.getViewport('axial');
  const coronal = engine.getViewport('coronal');
  const axialRendered = nextRendered(axialEl, 60000);
  const coronalRendered = nextRendered(coronalEl, 60000);
  const t0 = performance.now();
  volumeLoader.createLocalVolume(VOLUME_ID, {
    metadata: makeMetadata(),
    dimensions: [NX, NY, NZ],
    spacing: SPACING,
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    scalarData: data,
  });
  // createLocalVolume gives every slice the volume origin as imagePositionPatient; put the
  // real per-slice positions in, as a DICOM series would have, so tools can map slices to ids.
  const vol = cache.getVolume(VOLUME_ID);
  vol.imageIds.forEach((imageId, k) => {
    const plane = csUtils.genericMetadataProvider.get(Enums.MetadataModules.IMAGE_PLANE, imageId);
    csUtils.genericMetadataProvider.add(imageId, {
      type: Enums.MetadataModules.IMAGE_PLANE,
      metadata: { ...plane, imagePositionPatient: [0, 0, k * SPACING[2]], sliceLocation: k * SPACING[2], frameOfReferenceUID: FOR_UID },
    });
  });
  const tCreated = performance.now();
  await Promise.all([axial.setVolumes([{ volumeId: VOLUME_ID }]), coronal.setVolumes([{ volumeId: VOLUME_ID }])]);
  const tSet = performance.now();
  for (const vp of [axial, coronal]) vp.setProperties({ voiRange: { lower: -160, upper: 240 } });
  engine.renderViewports(['axial', 'coronal']);
  const [ta, tc] = await Promise.all([axialRendered, coronalRendered]);
  const r = (x) => Math.round(x * 10) / 10;
  // A second, warm render: what a later interaction costs without texture upload.
  const warm = await timedRender(axialEl, () => axial.render());
  return {
    createLocalVolumeMs: r(tCreated - t0),
    setVolumesMs: r(tSet - tCreated),
    firstAxialRenderedMs: r(ta - t0),
    bothRenderedMs: r(Math.max(ta, tc) - t0),
    secondAxialRenderMs: r(warm.latency),
    axialSlices: axial.getNumberOfSlices(),
    coronalSlices: coronal.getNumberOfSlices(),
    cacheBytes: cache.getCacheSize(),
  };
}

async function scrollBench(viewportId, element, steps) {
  const vp = state.engine.getViewport(viewportId);
  // Start from a place where `steps` forward scrolls stay in range.
  const n = vp.getNumberOfSlices();
  const start = Math.max(0, Math.floor(n / 2 - steps / 2));
  const current = vp.getSliceIndex();
  await timedRender(element, () => vp.scroll(start - current));
  const latency = [];
  const work = [];
  const firstIndex = vp.getSliceIndex();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const t = await timedRender(element, () => vp.scroll(1));
    latency.push(t.latency);
    work.push(t.work);
  }
  const total = performance.now() - t0;
  return {
    steps,
    slicesMoved: vp.getSliceIndex() - firstIndex,
    latencyMs: stats(latency),
    renderWorkMs: stats(work),
    fps: Math.round((steps * 1000) / total),
  };
}

async function voiBench(viewportId, element, steps) {
  const vp = state.engine.getViewport(viewportId);
  const latency = [];
  const work = [];
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const center = 40 + (s % 50) * 4;
    const width = 400 + (s % 50) * 6;
    const t = await timedRender(element, () => {
      vp.setProperties({ voiRange: { lower: center - width / 2, upper: center + width / 2 } });
      vp.render();
    });
    latency.push(t.latency);
    work.push(t.work);
  }
  const total = performance.now() - t0;
  const voi = vp.getProperties().voiRange;
  return { steps, finalVoi: voi, latencyMs: stats(latency), renderWorkMs: stats(work), fps: Math.round((steps * 1000) / total) };
}

/** Canvas snapshot of the rendered axial viewport: mean gray inside and outside the body. */
function probePixels(element) {
  const canvas = element.querySelector('canvas');
  if (!canvas) return null;
  const c = document.createElement('canvas');
  c.width = canvas.width;
  c.height = canvas.height;
  const g = c.getContext('2d');
  g.drawImage(canvas, 0, 0);
  const px = (x, y) => Array.from(g.getImageData(Math.round(x * c.width), Math.round(y * c.height), 1, 1).data);
  return { canvas: [canvas.width, canvas.height], center: px(0.5, 0.5), corner: px(0.02, 0.02) };
}

// ---------------------------------------------------------------------------- tools

async function setupSegmentation() {
  const { ToolGroupManager, BrushTool, WindowLevelTool, PanTool, ZoomTool, segmentation, Enums: TE } = csTools;
  const t0 = performance.now();
  for (const T of [BrushTool, WindowLevelTool, PanTool, ZoomTool]) csTools.addTool(T);
  const tg = ToolGroupManager.createToolGroup(TOOL_GROUP_ID);
  tg.addViewport('axial', ENGINE_ID);
  tg.addViewport('coronal', ENGINE_ID);
  tg.addTool(WindowLevelTool.toolName);
  tg.addTool(PanTool.toolName);
  tg.addTool(ZoomTool.toolName);
  tg.addToolInstance(SPHERE_BRUSH, BrushTool.toolName, { activeStrategy: 'FILL_INSIDE_SPHERE', brushSize: 10 });
  tg.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: TE.MouseBindings.Primary }] });
  const tTools = performance.now();

  volumeLoader.createAndCacheDerivedLabelmapVolume(VOLUME_ID, { volumeId: SEG_ID });
  const tLabelmap = performance.now();
  segmentation.addSegmentations([
    { segmentationId: SEG_ID, representation: { type: TE.SegmentationRepresentations.Labelmap, data: { volumeId: SEG_ID } } },
  ]);
  const rendered = nextRendered(state.axialEl, 60000);
  await segmentation.addLabelmapRepresentationToViewportMap({
    axial: [{ segmentationId: SEG_ID, type: TE.SegmentationRepresentations.Labelmap }],
    coronal: [{ segmentationId: SEG_ID, type: TE.SegmentationRepresentations.Labelmap }],
  });
  segmentation.segmentIndex.setActiveSegmentIndex(SEG_ID, 1);
  state.engine.renderViewports(['axial', 'coronal']);
  await rendered;
  const tShown = performance.now();
  Object.assign(state, { tg, TE, WindowLevelTool, PanTool, ZoomTool });
  const r = (x) => Math.round(x * 10) / 10;
  return {
    toolsSetupMs: r(tTools - t0),
    createLabelmapMs: r(tLabelmap - tTools),
    addRepresentationAndRenderMs: r(tShown - tLabelmap),
  };
}

/** Activates the sphere brush and wraps its drag handler to time each stroke step. */
function armBrush() {
  const { tg, TE, WindowLevelTool } = state;
  tg.setToolPassive(WindowLevelTool.toolName);
  tg.setToolActive(SPHERE_BRUSH, { bindings: [{ mouseButton: TE.MouseBindings.Primary }] });
  const tool = tg.getToolInstance(SPHERE_BRUSH);
  const origDrag = tool._dragCallback;
  const origApply = tool.applyActiveStrategy.bind(tool);
  const rec = { dragSync: [], strategy: [], toRender: [], pending: 0, errors: [] };
  tool.applyActiveStrategy = (enabledElement, operationData) => {
    const t0 = performance.now();
    const res = origApply(enabledElement, operationData);
    rec.strategy.push(performance.now() - t0);
    return res;
  };
  tool._dragCallback = (evt) => {
    const before = rec.strategy.length;
    const rendered = nextRendered(state.axialEl, 5000);
    const t0 = performance.now();
    origDrag(evt);
    rec.dragSync.push(performance.now() - t0);
    if (rec.strategy.length > before) {
      rec.pending++;
      rendered
        .then((t1) => rec.toRender.push(t1 - t0))
        .catch((e) => rec.errors.push(String(e)))
        .finally(() => rec.pending--);
    } else {
      rendered.catch(() => undefined);
    }
  };
  state.brush = { rec, tool };
  const rect = state.axialEl.getBoundingClientRect();
  return { x: rect.left, y: rect.top, width: rect.width, height: rect.height };
}

async function brushIdle() {
  const t0 = performance.now();
  while (state.brush.rec.pending > 0 && performance.now() - t0 < 6000) await nextFrame();
  return state.brush.rec.pending;
}

function brushResults() {
  const { rec } = state.brush;
  const seg = cache.getVolume(SEG_ID);
  let painted = 0;
  const vm = seg.voxelManager;
  const n = NX * NY * NZ;
  for (let i = 0; i < n; i++) if (vm.getAtIndex(i)) painted++;
  return {
    strategy: 'FILL_INSIDE_SPHERE',
    brushRadiusMm: state.brush.tool.configuration.brushSize,
    dragEvents: rec.dragSync.length,
    strokeSteps: rec.strategy.length,
    applyStrategyMs: stats(rec.strategy),
    dragHandlerSyncMs: stats(rec.dragSync),
    stepToRenderedMs: stats(rec.toRender),
    paintedVoxels: painted,
    errors: rec.errors.slice(0, 3),
  };
}

/** Switch the primary-button tool among W/L, pan, zoom and the sphere brush. */
async function toolSwitchBench(rounds) {
  const { tg, TE, WindowLevelTool, PanTool, ZoomTool } = state;
  const names = [WindowLevelTool.toolName, PanTool.toolName, ZoomTool.toolName, SPHERE_BRUSH];
  let active = SPHERE_BRUSH;
  const sync = [];
  const toFrame = [];
  for (let i = 0; i < rounds; i++) {
    const next = names[i % names.length] === active ? names[(i + 1) % names.length] : names[i % names.length];
    const t0 = performance.now();
    tg.setToolPassive(active);
    tg.setToolActive(next, { bindings: [{ mouseButton: TE.MouseBindings.Primary }] });
    const t1 = performance.now();
    const tf = await nextFrame();
    sync.push(t1 - t0);
    toFrame.push(tf - t0);
    active = next;
  }
  return { rounds, syncMs: stats(sync), toNextFrameMs: stats(toFrame) };
}

// ---------------------------------------------------------------------------- driver API

async function runRender() {
  const out = { versions: { core: coreVersion, tools: csTools.version }, userAgent: window.navigator.userAgent };
  out.webgl = webglInfo();
  setStatus('phantom');
  const tp = performance.now();
  const data = makePhantom();
  out.phantom = { dims: [NX, NY, NZ], spacing: SPACING, bytes: data.byteLength, makeMs: Math.round(performance.now() - tp) };
  setStatus('baseline');
  out.baseline2d = await runBaseline(data);
  setStatus('cornerstone setup');
  out.cornerstoneSetup = await setupCornerstone();
  setStatus('first render');
  out.firstRender = await firstRender(data);
  out.axialPixels = probePixels(state.axialEl);
  setStatus('scroll');
  out.axialScroll = await scrollBench('axial', state.axialEl, 100);
  out.coronalScroll = await scrollBench('coronal', state.coronalEl, 100);
  setStatus('voi');
  out.axialVoi = await voiBench('axial', state.axialEl, 100);
  out.coronalVoi = await voiBench('coronal', state.coronalEl, 100);
  setStatus('render done');
  return out;
}

window.bench = {
  ready: true,
  runRender,
  setupSegmentation,
  armBrush,
  brushIdle,
  brushResults,
  toolSwitchBench,
  setStatus,
  probePixels: () => probePixels(state.axialEl),
};
setStatus('ready');
