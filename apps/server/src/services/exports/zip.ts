// A zip archive written entry by entry to a file, never held in memory: fflate's streaming Zip
// produces chunks synchronously; they are queued and written with backpressure.
import { createWriteStream, type WriteStream } from 'node:fs';
import { AsyncZipDeflate, Zip, ZipDeflate, ZipPassThrough } from 'fflate';

const encoder = new TextEncoder();

export class ZipFileWriter {
  private readonly out: WriteStream;
  private readonly zip: Zip;
  private pending: Uint8Array[] = [];
  private failed: Error | null = null;
  private finishedResolve: () => void = () => undefined;
  /** Settles when the archive's last chunk has been produced (deflate workers finish asynchronously). */
  private readonly finished = new Promise<void>((resolve) => (this.finishedResolve = resolve));
  private readonly names = new Set<string>();
  entries = 0;

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'wx' });
    this.out.on('error', (err) => (this.failed = err));
    this.zip = new Zip((err, chunk, final) => {
      if (err) this.failed = err;
      else this.pending.push(chunk);
      if (final || err) this.finishedResolve();
    });
  }

  private async flush() {
    if (this.failed) throw this.failed;
    const chunks = this.pending;
    this.pending = [];
    for (const c of chunks) {
      if (!this.out.write(c)) await new Promise<void>((resolve, reject) => {
        this.out.once('drain', resolve);
        this.out.once('error', reject);
      });
    }
    if (this.failed) throw this.failed;
  }

  /** A unique entry name: a second entry of the same name gets " (2)" before its extension. */
  private unique(name: string): string {
    let n = name;
    for (let i = 2; this.names.has(n); i++) n = name.replace(/(\.[a-z0-9.]+)?$/i, (ext) => ` (${i})${ext}`);
    this.names.add(n);
    return n;
  }

  /** Adds one entry from bytes or text; `compress: false` for data that is already compressed. */
  async add(name: string, data: Uint8Array | string, compress = true): Promise<string> {
    const entry = this.unique(name);
    const file = compress ? new ZipDeflate(entry, { level: 6 }) : new ZipPassThrough(entry);
    this.zip.add(file);
    file.push(typeof data === 'string' ? encoder.encode(data) : data, true);
    this.entries++;
    await this.flush();
    return entry;
  }

  /**
   * Adds one entry from a stream of text chunks (e.g. a COCO file), flushing as it goes. The
   * deflating runs in a worker thread (fflate's AsyncZipDeflate) while this thread produces text.
   */
  async addStream(name: string, chunks: AsyncIterable<string> | Iterable<string>): Promise<string> {
    const entry = this.unique(name);
    const file = new AsyncZipDeflate(entry, { level: 1 });
    this.zip.add(file);
    // Chunks are joined once per MiB (a flat string encodes far faster than a long concatenation).
    let parts: string[] = [];
    let size = 0;
    for await (const c of chunks) {
      parts.push(c);
      size += c.length;
      if (size >= 1 << 20) {
        file.push(encoder.encode(parts.join('')));
        parts = [];
        size = 0;
        await this.flush();
      }
    }
    file.push(encoder.encode(parts.join('')), true);
    this.entries++;
    await this.flush();
    return entry;
  }

  async close(): Promise<void> {
    this.zip.end();
    await this.finished;
    await this.flush();
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  /** Stops writing after a failure (the caller removes the file). */
  abort() {
    this.zip.terminate();
    this.out.destroy();
  }
}
