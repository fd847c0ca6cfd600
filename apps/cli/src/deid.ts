// `caliper deid <input> <output>`: offline de-identification of a DICOM file or folder tree.
// Output files mirror the input's relative paths; the input is never overwritten. Messages name
// files by their relative path and errors by their (PHI-free) message only.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_DEID_SETTINGS,
  DicomDeidError,
  deidentifyDicom,
  redactDicom,
  type DeidReport,
  type DeidSettings,
  type RedactionRule,
} from '@caliper/media/deid';

export interface DeidSummary {
  files: number;
  deidentified: number;
  skipped: number;
  errors: number;
  burnedInFlagged: number;
  redacted: number;
  totals: DeidReport;
}

type Print = (line: string) => void;

const USAGE =
  'usage: caliper deid <input> <output> [--secret-file F] [--project-id ID] [--settings F.json] [--redactions F.json]';

class UsageError extends Error {}

function listFiles(root: string): string[] {
  const st = statSync(root);
  if (st.isFile()) return [root];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  walk(root);
  return out;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    throw new UsageError(`${what} ${file} is not readable JSON`);
  }
}

function parseSettings(value: unknown): Partial<DeidSettings> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--settings must hold a JSON object');
  const out: Partial<DeidSettings> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!(k in DEFAULT_DEID_SETTINGS)) throw new UsageError(`--settings: unknown setting "${k}"`);
    if (typeof v !== 'boolean') throw new UsageError(`--settings: "${k}" must be true or false`);
    out[k as keyof DeidSettings] = v;
  }
  return out;
}

function parseRules(value: unknown): RedactionRule[] {
  if (!Array.isArray(value)) throw new UsageError('--redactions must hold a JSON array of rules');
  return value.map((r: unknown, i) => {
    const bad = () => new UsageError(`--redactions: rule ${i + 1} is malformed`);
    if (!r || typeof r !== 'object') throw bad();
    const o = r as Record<string, unknown>;
    const rule: RedactionRule = { rects: [] };
    if (o.manufacturer !== undefined) {
      if (typeof o.manufacturer !== 'string') throw bad();
      rule.manufacturer = o.manufacturer;
    }
    if (o.model !== undefined) {
      if (typeof o.model !== 'string') throw bad();
      rule.model = o.model;
    }
    for (const k of ['rows', 'columns'] as const) {
      if (o[k] !== undefined) {
        if (!Number.isInteger(o[k])) throw bad();
        rule[k] = o[k] as number;
      }
    }
    if (!Array.isArray(o.rects)) throw bad();
    for (const rect of o.rects as unknown[]) {
      const q = rect as Record<string, unknown> | null;
      if (!q || !['x', 'y', 'width', 'height'].every((k) => typeof q[k] === 'number' && Number.isFinite(q[k]))) throw bad();
      rule.rects.push({ x: q.x as number, y: q.y as number, width: q.width as number, height: q.height as number });
    }
    return rule;
  });
}

const inside = (child: string, parent: string): boolean => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

function realOrResolved(p: string): string {
  // The output may not exist yet: resolve its nearest existing ancestor.
  let cur = path.resolve(p);
  const tail: string[] = [];
  while (!existsSync(cur)) {
    tail.unshift(path.basename(cur));
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return path.join(realpathSync(cur), ...tail);
}

/** Runs the command; returns the process exit code (0 ok, 1 some files failed, 2 usage). */
export async function runDeid(args: string[], print: Print, printErr: Print): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'secret-file': { type: 'string' },
        'project-id': { type: 'string' },
        settings: { type: 'string' },
        redactions: { type: 'string' },
      },
    });
    if (positionals.length !== 2) throw new UsageError(USAGE);
    const [inputArg, outputArg] = positionals as [string, string];
    if (!existsSync(inputArg)) throw new UsageError(`input ${inputArg} does not exist`);
    const input = realpathSync(inputArg);
    const output = realOrResolved(outputArg);
    const inputIsDir = statSync(input).isDirectory();
    if (inputIsDir ? inside(output, input) : output === input) {
      throw new UsageError('the output must not be the input or lie inside it');
    }
    let secret: string;
    if (values['secret-file']) {
      try {
        secret = readFileSync(values['secret-file'], 'utf8').trim();
      } catch {
        throw new UsageError(`secret file ${values['secret-file']} is not readable`);
      }
      if (!secret) throw new UsageError('the secret file is empty');
    } else {
      secret = randomBytes(32).toString('hex');
      print('note: no --secret-file given; a random secret is used, so UIDs and pseudonyms will not line up with any other run.');
    }
    const projectId = values['project-id'] ?? 'default';
    const settings = values.settings ? parseSettings(readJson(values.settings, '--settings')) : {};
    const rules = values.redactions ? parseRules(readJson(values.redactions, '--redactions')) : [];

    const summary: DeidSummary = {
      files: 0,
      deidentified: 0,
      skipped: 0,
      errors: 0,
      burnedInFlagged: 0,
      redacted: 0,
      totals: { removed: 0, emptied: 0, replaced: 0, uidsRemapped: 0, datesShifted: 0, cleaned: 0, privateRemoved: 0, privateKept: 0 },
    };
    for (const file of listFiles(input)) {
      summary.files++;
      const rel = inputIsDir ? path.relative(input, file) : path.basename(file);
      const target = inputIsDir ? path.join(output, rel) : output;
      let result: ReturnType<typeof deidentifyDicom>;
      try {
        result = deidentifyDicom(readFileSync(file), { secret, projectId, settings });
      } catch (err) {
        if (err instanceof DicomDeidError && /not DICOM/.test(err.message)) {
          summary.skipped++;
          print(`skipped ${rel}: not DICOM`);
        } else {
          summary.errors++;
          printErr(`error ${rel}: ${err instanceof DicomDeidError ? err.message : 'unexpected failure'}`);
        }
        continue;
      }
      try {
        let bytes = result.bytes;
        let note = '';
        if (rules.length > 0) {
          const r = await redactDicom(bytes, rules);
          bytes = r.bytes;
          if (r.applied > 0) {
            summary.redacted++;
            note = ` (redacted ${r.applied} rect${r.applied === 1 ? '' : 's'}${r.transcoded ? ', transcoded' : ''})`;
          }
        }
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, bytes);
        summary.deidentified++;
        for (const k of Object.keys(summary.totals) as (keyof DeidReport)[]) summary.totals[k] += result.report[k];
        if (result.burnedIn.flagged) {
          summary.burnedInFlagged++;
          note += ` [burned-in: ${result.burnedIn.reasons.join('; ')}]`;
        }
        print(`ok ${rel}${note}`);
      } catch (err) {
        summary.errors++;
        printErr(`error ${rel}: ${err instanceof DicomDeidError ? err.message : 'could not be redacted or written'}`);
      }
    }
    print(
      `files ${summary.files}, de-identified ${summary.deidentified}, skipped ${summary.skipped}, errors ${summary.errors}, ` +
        `flagged burned-in ${summary.burnedInFlagged}, redacted ${summary.redacted}`,
    );
    print(
      'totals: ' +
        Object.entries(summary.totals)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
    );
    return summary.errors > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      printErr(`caliper: ${err.message}`);
      return 2;
    }
    if (err instanceof TypeError && 'code' in err) {
      printErr(`caliper: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
