// A zip archive written entry by entry to a file, never held in memory: fflate's streaming Zip
// produces chunks synchronously; they are queued and written with backpressure.
import { createWriteStream, type WriteStream } from 'node:fs';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';

const encoder = new TextEncoder();

export class ZipFileWriter {
  private readonly out: WriteStream;
  private readonly zip: Zip;
  private pending: Uint8Array[] = [];
  private failed: Error | null = null;
  private finished = false;
  private readonly names = new Set<string>();
  entries = 0;

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'wx' });
    this.out.on('error', (err) => (this.failed = err));
    this.zip = new Zip((err, chunk, final) => {
      if (err) this.failed = err;
      else this.pending.push(chunk);
      if (final) this.finished = true;
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

  /** Adds one entry from a stream of text chunks (e.g. a COCO file), flushing as it goes. */
  async addStream(name: string, chunks: AsyncIterable<string> | Iterable<string>): Promise<string> {
    const entry = this.unique(name);
    const file = new ZipDeflate(entry, { level: 1 });
    this.zip.add(file);
    let buf = '';
    for await (const c of chunks) {
      buf += c;
      if (buf.length >= 1 << 20) {
        file.push(encoder.encode(buf));
        buf = '';
        await this.flush();
      }
    }
    file.push(encoder.encode(buf), true);
    this.entries++;
    await this.flush();
    return entry;
  }

  async close(): Promise<void> {
    this.zip.end();
    await this.flush();
    if (!this.finished) throw new Error('zip did not finish');
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  /** Stops writing after a failure (the caller removes the file). */
  abort() {
    this.zip.terminate();
    this.out.destroy();
  }
}
