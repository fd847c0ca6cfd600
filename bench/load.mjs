// Load generator for bench/saves.mjs. Runs in its own process (child_process.fork) so it never
// shares the server's event loop. It receives one job over IPC, runs it, sends the result back
// and exits. Only ever talks to the URL it is given (127.0.0.1).
//
// Job: { url, mode: 'saves' | 'bare', clients: [{ path, headers, doc, revision }], warmupMs,
//        durationMs, intervalMs? (paced: one request per client per interval), timeoutMs }
// Every client loops: PUT body `{"baseRevision":<rev>,"document":<doc>}`. In 'saves' mode the
// next baseRevision comes from the response (`revision`, or `currentRevision` on a 409); in
// 'bare' mode it is incremented locally, so both runs send byte-for-byte the same kind of body.
import http from 'node:http';

const MAX_REQUESTS_PER_CLIENT = 1_000_000; // hard bound on every loop, besides the deadline

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function put(agent, url, path, headers, body, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.request(
      url + path,
      { method: 'PUT', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => resolve({ status: 0, text: String(err) }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 0, text: String(err?.message ?? err) }));
    req.end(body);
  });
}

async function run(job) {
  const { url, mode, clients, warmupMs, durationMs, intervalMs, timeoutMs = 30_000 } = job;
  // One keep-alive connection per client, like one browser per annotator.
  const agents = clients.map(() => new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 }));
  const latencies = [];
  const statuses = {};
  const errorSamples = [];
  const slowest = []; // the 3 slowest requests in the window: where the max comes from
  let errors = 0;
  let errorsTotal = 0; // including warm-up and the drain after the window
  let bytesSent = 0;
  let requestsSent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const measureStart = t0 + warmupMs;
  const end = measureStart + durationMs;

  async function client(c, index) {
    let rev = c.revision;
    // Paced clients start spread over one interval so they do not arrive in lock-step.
    let nextAt = intervalMs ? t0 + (intervalMs * index) / clients.length : 0;
    for (let i = 0; i < MAX_REQUESTS_PER_CLIENT; i++) {
      if (intervalMs) {
        if (nextAt >= end) break;
        await sleep(nextAt - now());
        nextAt += intervalMs;
      }
      const start = now();
      if (start >= end) break;
      const body = Buffer.from(`{"baseRevision":${rev},"document":${c.doc}}`);
      requestsSent++;
      bytesSent += body.length;
      const res = await put(agents[index], url, c.path, c.headers, body, timeoutMs);
      const fin = now();
      const ok = res.status >= 200 && res.status < 300;
      const inWindow = fin >= measureStart && fin <= end;
      if (inWindow) {
        latencies.push(fin - start);
        if (slowest.length < 3 || fin - start > slowest[slowest.length - 1].ms) {
          slowest.push({ ms: Math.round(fin - start), client: index, nth: i, startedAtMs: Math.round(start - t0), status: res.status });
          slowest.sort((a, b) => b.ms - a.ms);
          slowest.length = Math.min(slowest.length, 3);
        }
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (!ok) errors++;
      }
      if (!ok) errorsTotal++;
      if (!ok && errorSamples.length < 5) errorSamples.push(`${res.status} ${res.text.slice(0, 300)}`);
      if (mode === 'saves') {
        try {
          const b = JSON.parse(res.text);
          if (ok && typeof b.revision === 'number') rev = b.revision;
          else if (typeof b.currentRevision === 'number') rev = b.currentRevision;
        } catch {
          /* keep rev */
        }
      } else if (ok) rev++;
    }
    return rev;
  }

  const finalRevisions = await Promise.all(clients.map((c, i) => client(c, i)));
  const tEnd = now();
  const cpu = process.cpuUsage(cpu0);
  for (const a of agents) a.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] : NaN);
  const count = latencies.length;
  return {
    mode,
    clients: clients.length,
    intervalMs: intervalMs ?? null,
    durationMs,
    count,
    throughput: count / (durationMs / 1000),
    mean: count ? latencies.reduce((a, b) => a + b, 0) / count : NaN,
    p50: pct(0.5),
    p90: pct(0.9),
    p99: pct(0.99),
    max: count ? latencies[count - 1] : NaN,
    errors,
    errorsTotal,
    statuses,
    errorSamples,
    slowest,
    requestsSent,
    avgBodyBytes: requestsSent ? bytesSent / requestsSent : 0,
    loadgenCpuPct: ((cpu.user + cpu.system) / 1000 / (tEnd - t0)) * 100,
    finalRevisions,
  };
}

process.once('message', async (job) => {
  try {
    const result = await run(job);
    process.send({ ok: true, result }, () => process.exit(0));
  } catch (err) {
    process.send({ ok: false, error: String(err?.stack ?? err) }, () => process.exit(1));
  }
});
