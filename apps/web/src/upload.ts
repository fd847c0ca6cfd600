import { useCallback, useEffect, useRef, useState } from 'react';
import { csrfHeaders, problemFromBody } from './api';
import type { Asset } from './types';

export interface PickedFile {
  file: File;
  /** Relative path inside a chosen folder (`study1/img001.png`) or just the file name. */
  path: string;
}

export interface UploadItem extends PickedFile {
  id: number;
  loaded: number;
  total: number;
  status: 'queued' | 'uploading' | 'done' | 'error';
  error?: string;
  httpStatus?: number;
  asset?: Asset;
}

interface UploadResponse {
  accepted?: Asset[];
  rejected?: { fileName: string; status: number; detail: string }[];
}

const PARALLEL = 3;

/** One file per request, so each file gets its own progress bar and its own error. */
function uploadOne(url: string, item: PickedFile, onProgress: (loaded: number, total: number) => void): Promise<{ asset?: Asset; error?: string; status: number }> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [k, v] of Object.entries(csrfHeaders('POST'))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onerror = () => resolve({ status: 0, error: 'Network error: the upload did not reach the server.' });
    xhr.onabort = () => resolve({ status: 0, error: 'Upload cancelled.' });
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      const res = (body ?? {}) as UploadResponse;
      if (xhr.status >= 200 && xhr.status < 300) {
        const rejected = res.rejected?.[0];
        if (rejected) return resolve({ status: rejected.status, error: rejected.detail });
        return resolve({ status: xhr.status, asset: res.accepted?.[0] });
      }
      const rejected = res.rejected?.[0];
      if (rejected?.detail) return resolve({ status: xhr.status, error: rejected.detail });
      const fallback =
        xhr.status === 413 ? 'The file is too large for this server.' : xhr.status === 401 ? 'Your session has ended. Sign in again.' : `Upload failed (HTTP ${xhr.status}).`;
      resolve({ status: xhr.status, error: problemFromBody(xhr.status, body, fallback).detail });
    };
    const form = new FormData();
    form.append('file', item.file, item.path);
    xhr.send(form);
  });
}

export function useUploader(url: string, onSettled: () => void) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const queue = useRef<UploadItem[]>([]);
  const active = useRef(0);
  const nextId = useRef(1);
  const settledRef = useRef(onSettled);
  settledRef.current = onSettled;

  const patch = useCallback((id: number, p: Partial<UploadItem>) => {
    setItems((list) => list.map((it) => (it.id === id ? { ...it, ...p } : it)));
  }, []);

  const pump = useCallback(() => {
    while (active.current < PARALLEL && queue.current.length) {
      const item = queue.current.shift()!;
      active.current++;
      patch(item.id, { status: 'uploading' });
      void uploadOne(url, item, (loaded, total) => patch(item.id, { loaded, total })).then((r) => {
        active.current--;
        if (r.asset || !r.error) patch(item.id, { status: 'done', loaded: item.total, asset: r.asset, httpStatus: r.status });
        else patch(item.id, { status: 'error', error: r.error, httpStatus: r.status });
        if (active.current === 0 && queue.current.length === 0) settledRef.current();
        pump();
      });
    }
  }, [url, patch]);

  const add = useCallback(
    (files: PickedFile[]) => {
      const fresh = files.map((f) => ({ ...f, id: nextId.current++, loaded: 0, total: f.file.size, status: 'queued' as const }));
      queue.current.push(...fresh);
      setItems((list) => [...list, ...fresh]);
      pump();
    },
    [pump],
  );

  const clearFinished = useCallback(() => setItems((list) => list.filter((it) => it.status === 'queued' || it.status === 'uploading')), []);

  const busy = items.some((it) => it.status === 'queued' || it.status === 'uploading');
  useEffect(() => {
    if (!busy) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [busy]);

  return { items, add, clearFinished, busy };
}

export function fromFileList(list: FileList | null): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** Files from a drop, walking dropped folders so that relative paths are kept. */
export async function fromDataTransfer(dt: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (!entries.length) return fromFileList(dt.files);
  const out: PickedFile[] = loose.map((file) => ({ file, path: file.name }));
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ file, path: entry.fullPath.replace(/^\/+/, '') || file.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}
