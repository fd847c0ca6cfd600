// `caliper export` and `caliper import`: clients of a running server's API, authenticated with a
// personal access token (CALIPER_TOKEN or --token) against CALIPER_URL or --url.
import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';

type Print = (s: string) => void;

export const EXCHANGE_HELP = `  export --project ID --format F --out FILE.zip [--task ID] [--include-images] [--all-slices]
         [--annotator all|consensus|USER_ID] [--stages annotation,review,acceptance] [--completed-only]
         [--seg-type binary|labelmap]
                                     export a project (formats: nifti, dicom-seg, dicom-sr, rtstruct, coco,
                                     yolo, yolo-seg, voc, cvat, caliper) through the API; prints the stats
  import --task ID --format F FILE [--dry-run] [--labels refuse|create|map] [--label-map F.json]
         [--mapping F.json] [--mode append|replace] [--job ID]
                                     import annotations (coco, yolo, voc, cvat, nifti, dicom-seg, caliper);
                                     prints the report; exit 1 when nothing matched
  (export/import talk to CALIPER_URL, default http://127.0.0.1:8080, with CALIPER_TOKEN or --token)`;

class ApiClient {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  async call(method: string, route: string, body?: unknown | FormData): Promise<Response> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}` } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(new URL(route, this.base), init);
    if (!res.ok) {
      let detail = `${res.status} ${res.statusText}`;
      try {
        const p = (await res.json()) as { detail?: string };
        if (p.detail) detail = `${res.status}: ${p.detail}`;
      } catch {
        // not a problem document
      }
      throw new Error(detail);
    }
    return res;
  }

  async json<T>(method: string, route: string, body?: unknown): Promise<T> {
    return (await (await this.call(method, route, body)).json()) as T;
  }
}

function client(values: { url?: string | undefined; token?: string | undefined }): ApiClient {
  const token = values.token ?? process.env.CALIPER_TOKEN;
  if (!token) throw new UsageError('set CALIPER_TOKEN (a personal access token) or pass --token');
  const base = values.url ?? process.env.CALIPER_URL ?? 'http://127.0.0.1:8080';
  return new ApiClient(base, token);
}

export class UsageError extends Error {}

interface ExportStatus {
  id: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  done: number;
  total: number;
  error: string | null;
  stats: unknown;
  bytes: number | null;
}

export async function runExportCommand(args: string[], print: Print, progress: Print): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      task: { type: 'string' },
      'include-images': { type: 'boolean' },
      'all-slices': { type: 'boolean' },
      annotator: { type: 'string' },
      stages: { type: 'string' },
      'completed-only': { type: 'boolean' },
      'seg-type': { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
    },
  });
  if (!values.project || !values.format || !values.out) throw new UsageError('export needs --project, --format and --out');
  const api = client(values);
  const request = {
    format: values.format,
    ...(values.task ? { taskId: values.task } : {}),
    includeImages: Boolean(values['include-images']),
    allSlices: Boolean(values['all-slices']),
    completedOnly: Boolean(values['completed-only']),
    ...(values.annotator ? { annotator: values.annotator } : {}),
    ...(values.stages ? { stages: values.stages.split(',').map((s) => s.trim()) } : {}),
    ...(values['seg-type'] ? { segType: values['seg-type'] } : {}),
  };
  let st = await api.json<ExportStatus>('POST', `/api/projects/${encodeURIComponent(values.project)}/exports`, request);
  while (st.state === 'queued' || st.state === 'running') {
    progress(`export ${st.state}: ${st.done}/${st.total} assets`);
    await new Promise((r) => setTimeout(r, 500));
    st = await api.json<ExportStatus>('GET', `/api/exports/${st.id}`);
  }
  if (st.state === 'failed') throw new Error(`the export failed: ${st.error ?? 'unknown reason'}`);
  const res = await api.call('GET', `/api/exports/${st.id}/download`);
  const out = path.resolve(values.out);
  const part = `${out}.part`;
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(part));
    await rename(part, out);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
  print(JSON.stringify({ export: st.id, file: out, bytes: st.bytes, stats: st.stats }, null, 2));
  return 0;
}

export async function runImportCommand(args: string[], print: Print): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      task: { type: 'string' },
      format: { type: 'string' },
      'dry-run': { type: 'boolean' },
      labels: { type: 'string' },
      'label-map': { type: 'string' },
      mapping: { type: 'string' },
      mode: { type: 'string' },
      job: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!values.task || !values.format || !file || positionals.length > 1) throw new UsageError('import needs --task, --format and one file to import');
  const api = client(values);
  const q = new URLSearchParams({ format: values.format });
  if (values['dry-run']) q.set('dryRun', 'true');
  if (values.labels) q.set('labels', values.labels);
  if (values.mode) q.set('mode', values.mode);
  if (values.job) q.set('jobId', values.job);
  const { readFile } = await import('node:fs/promises');
  if (values['label-map']) q.set('labelMap', await readFile(values['label-map'], 'utf8'));
  if (values.mapping) q.set('mapping', await readFile(values.mapping, 'utf8'));
  const form = new FormData();
  form.append('file', await openAsBlob(file), path.basename(file));
  const report = await api.json<{ matchedUnits: number; objects: number; labelmaps: number }>('POST', `/api/tasks/${encodeURIComponent(values.task)}/imports?${q}`, form);
  print(JSON.stringify(report, null, 2));
  return report.objects + report.labelmaps > 0 ? 0 : 1;
}
