// The imaging workspace's tools and keys in one place: the toolbar, the key handler and the
// `?` overlay all read these lists.

import type { ShortcutGroup } from '../components/shortcuts';
import type { LabelDef, LabelSchema } from '../types';
import type { ToolId } from './tools/model';
import type { SegTool } from './seg/settings';

export interface ToolDef {
  id: ToolId | SegTool;
  seg?: boolean;
  text: string;
  key: string;
  title: string;
}

/** Every annotation tool with its key; the `?` overlay and the toolbar read this list. */
export const SHAPE_TOOL_DEFS: ToolDef[] = [
  { id: 'select', text: 'Select', key: 's', title: 'Select, move, edit vertices' },
  { id: 'box', text: 'Box', key: 'b', title: 'Box' },
  { id: 'ellipse', text: 'Ellipse', key: 'e', title: 'Ellipse' },
  { id: 'polygon', text: 'Polygon', key: 'g', title: 'Polygon by clicks (Enter or double-click closes)' },
  { id: 'freehand', text: 'Freehand', key: 'd', title: 'Freehand polygon (drag)' },
  { id: 'polyline', text: 'Polyline', key: 'n', title: 'Polyline (Enter ends)' },
  { id: 'points', text: 'Points', key: 'o', title: 'Points' },
  { id: 'mask-brush', text: 'Mask', key: 'k', title: '2D mask brush' },
  { id: 'mask-eraser', text: 'Mask erase', key: 'K', title: '2D mask eraser' },
  { id: 'length', text: 'Length', key: 't', title: 'Length (mm)' },
  { id: 'angle', text: 'Angle', key: 'y', title: 'Angle (3 clicks)' },
  { id: 'bidirectional', text: 'Bidir.', key: 'j', title: 'Bidirectional (long then short axis)' },
  { id: 'area-roi', text: 'Area ROI', key: 'c', title: 'Polygon area ROI with statistics' },
  { id: 'ellipse-roi', text: 'Ellipse ROI', key: 'C', title: 'Ellipse ROI with statistics' },
  { id: 'landmark', text: 'Landmark', key: 'q', title: 'Landmarks (the next name of the label’s set)' },
];
export const SEG_TOOL_DEFS: ToolDef[] = [
  { id: 'brush', seg: true, text: 'Brush', key: 'u', title: 'Segment brush (sphere or circle; Shift erases)' },
  { id: 'eraser', seg: true, text: 'Eraser', key: 'U', title: 'Segment eraser' },
  { id: 'threshold', seg: true, text: 'Threshold', key: 'Y', title: 'Threshold brush (paints only inside the range)' },
  { id: 'flood', seg: true, text: 'Fill', key: 'G', title: 'Flood fill / region growing from a seed' },
  { id: 'scissors-rect', seg: true, text: 'Rect ✂', key: 'X', title: 'Rectangle scissors (Shift erases)' },
  { id: 'scissors-circle', seg: true, text: 'Circle ✂', key: 'O', title: 'Circle scissors' },
  { id: 'sphere-scissors', seg: true, text: 'Sphere ✂', key: 'S', title: 'Sphere scissors' },
];

export const keyText = (k: string) => (k.length === 1 && k !== k.toLowerCase() ? `Shift+${k}` : k.toUpperCase());

export function imagingShortcutGroups(schema: LabelSchema): ShortcutGroup[] {
  return [
    {
      title: 'Imaging tools',
      items: [
        { keys: ['Esc'], description: 'Back to navigation (or cancel the drawing in progress)' },
        ...[...SHAPE_TOOL_DEFS, ...SEG_TOOL_DEFS].map((t) => ({ keys: [keyText(t.key)], description: t.title })),
        { keys: ['[', ']'], description: 'Segment brush smaller / larger' },
        { keys: ['Delete'], description: 'Delete the selected object' },
        { keys: ['Enter'], description: 'Finish a polygon, polyline or area ROI' },
      ],
    },
    {
      title: 'Labels',
      items: drawLabels(schema).map((l, i) => ({ keys: [l.shortcut ?? String(i + 1)], description: `Draw with "${l.name}"` })),
    },
    {
      title: 'Viewer',
      items: [
        { keys: ['Wheel'], description: 'Next / previous slice (also ↑ ↓, PageUp/PageDown, Home/End)' },
        { keys: ['Right drag'], description: 'Window / level (W makes it the left-button tool)' },
        { keys: ['Middle drag'], description: 'Pan (H); Ctrl+wheel zooms (Z)' },
        { keys: ['Shift+1…5'], description: 'CT presets: soft tissue, lung, bone, brain, liver' },
        { keys: ['Shift+A'], description: 'Window from the histogram' },
        { keys: ['X'], description: 'Crosshair: click to move every view there' },
        { keys: ['L'], description: 'Layout 1×1 → 1×3 → 2×2' },
        { keys: ['M'], description: 'Next plane in 1×1 (axial, coronal, sagittal)' },
        { keys: ['I'], description: 'Invert' },
        { keys: ['R', 'Shift+R'], description: 'Rotate 90° / fit and reset' },
        { keys: ['F', 'V'], description: 'Flip horizontally / vertically' },
        { keys: ['P'], description: 'Play / pause cine' },
      ],
    },
    {
      title: 'Editing and job',
      items: [
        { keys: ['Ctrl', 'Z'], description: 'Undo (shapes and segmentation alike)' },
        { keys: ['Ctrl', 'Shift', 'Z'], description: 'Redo (also Ctrl+Y)' },
        { keys: ['Ctrl', 'S'], description: 'Save now' },
        { keys: ['→', '←'], description: 'Next / previous asset (saves first)' },
        { keys: ['Ctrl', 'Enter'], description: 'Submit the job' },
        { keys: ['Ctrl', 'G'], description: 'Guidelines' },
      ],
    },
  ];
}

/** Labels that can be drawn (anything but whole-asset tags), in schema order. */
export function drawLabels(schema: LabelSchema): LabelDef[] {
  return schema.labels.filter((l) => l.kinds.some((k) => k !== 'tag'));
}
