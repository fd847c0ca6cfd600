// Summarises a V8 .cpuprofile (from --cpu-prof or node:inspector): self time by library and the
// top functions, plus inclusive time of the functions on the save path.
//
//   node bench/cpuprofile.mjs <file.cpuprofile> [more…]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CATEGORIES = [
  ['zod', /\/node_modules\/zod\//],
  ['@caliper/core (validation code)', /\/packages\/core\//],
  ['server code (apps/server)', /\/apps\/server\//],
  ['kysely', /\/node_modules\/kysely\//],
  ['better-sqlite3', /\/node_modules\/better-sqlite3\//],
  ['pg driver', /\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|postgres-[a-z]+)\//],
  ['fastify + plugins', /\/node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|secure-json-parse|fast-json-stringify|fast-querystring|fastify-[a-z-]+|abstract-logging|pino[a-z-]*|toad-cache|process-warning|rfdc|fast-uri|cookie|content-type|json-schema-ref-resolver)\//],
  ['other node_modules', /\/node_modules\//],
  ['node core (http, net, streams…)', /^node:/],
];

export function summarise(profile, { top = 25, inclusiveOf = [] } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const cats = new Map();
  const funcs = new Map();
  const inclusive = new Map(inclusiveOf.map((n) => [n, 0]));
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const url = cf.url ?? '';
    let cat;
    if (!url) cat = cf.functionName.startsWith('(') ? cf.functionName : `V8 builtin / native: ${cf.functionName || '(anonymous)'}`;
    else cat = CATEGORIES.find(([, re]) => re.test(url))?.[0] ?? 'other';
    if (cat.startsWith('V8 builtin')) cat = /^(parse|stringify)$/.test(cf.functionName) ? `JSON.${cf.functionName} (V8)` : 'other native (V8 builtins, addons)';
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    const key = `${cf.functionName || '(anonymous)'} ${url ? `${shorten(url)}:${cf.lineNumber + 1}` : ''}`.trim();
    funcs.set(key, (funcs.get(key) ?? 0) + us);
    if (inclusiveOf.length) {
      const seen = new Set();
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        const name = byId.get(cur).callFrame.functionName;
        if (inclusive.has(name) && !seen.has(name)) {
          seen.add(name);
          inclusive.set(name, inclusive.get(name) + us);
        }
      }
    }
  }
  const pct = (us) => (total ? (us / total) * 100 : 0);
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    categories: sorted(cats).map(([name, us]) => ({ name, ms: us / 1000, pct: pct(us) })),
    functions: sorted(funcs).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, pct: pct(us) })),
    inclusive: [...inclusive.entries()].map(([name, us]) => ({ name, ms: us / 1000, pct: pct(us) })),
  };
}

function shorten(url) {
  const u = url.replace(/^file:\/\//, '');
  const i = u.indexOf('/node_modules/');
  if (i >= 0) return u.slice(i + 14);
  const j = u.search(/\/(apps|packages)\//);
  return j >= 0 ? u.slice(j + 1) : u.startsWith('node:') ? u : path.basename(u);
}

export const SAVE_PATH_FUNCTIONS = [
  'saveAnnotations',
  'validateDocument',
  'authenticate',
  'requireJob',
  'requireJobAsset',
  'loadLabelSchema',
  'appendAudit',
  'entryHash',
  'safeParse',
  'defaultJsonParser',
  'parse',
  'stringify',
  'serialize',
];

export function printSummary(s, title = '') {
  if (title) console.log(`\n${title}  (${s.totalMs.toFixed(0)} ms of samples)`);
  console.log('  self time by library:');
  for (const c of s.categories.slice(0, 14)) console.log(`    ${c.pct.toFixed(1).padStart(5)}%  ${c.ms.toFixed(0).padStart(7)} ms  ${c.name}`);
  console.log('  top functions (self):');
  for (const f of s.functions) console.log(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  if (s.inclusive.length) {
    console.log('  inclusive (function and what it calls):');
    for (const f of s.inclusive) console.log(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) {
    printSummary(summarise(JSON.parse(readFileSync(file, 'utf8')), { inclusiveOf: SAVE_PATH_FUNCTIONS }), file);
  }
}
