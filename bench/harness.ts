/**
 * The benchmark harness: runs each case several times, prints one table per case with median,
 * min and max, and the ratio against the baseline measured in the same run; `--json FILE`
 * writes the same figures to a file.
 *
 * The runs of a case's measures are interleaved (baseline, candidate, peers, then the next
 * round in a rotated order, reversed in every other block of rounds), so a burst of load on a
 * shared machine hits every side alike and no side always runs right after the same other side,
 * and a full garbage collection runs (untimed) before each timed run, so no side pays for the
 * garbage of another.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** One measured thing: `run` returns nothing (timed) or a figure of its own (e.g. ops/s). */
export interface Measure {
  name: string;
  run: () => Promise<unknown> | unknown;
  /** Called once before the timed runs (warm-up, data preparation). */
  before?: () => Promise<void> | void;
  /** Called before each timed run, untimed (e.g. emptying a cache for a cold read). */
  beforeEach?: () => Promise<void> | void;
  /** Called after each timed run, untimed (e.g. releasing what the run made, so other measures do not run beside it). */
  afterEach?: () => Promise<void> | void;
  /** Why this measure cannot run here (a missing peer): printed as "skipped: why", never a figure. */
  skip?: string;
}

/** A case: a candidate measured against a baseline, with a target ratio. */
export interface BenchCase {
  title: string;
  /** Short name for `--only` (defaults to the title). */
  id?: string;
  candidate: Measure;
  baseline?: Measure;
  /** Further baselines (peers such as OpenDAL or rclone): printed with their own ratio, no target. */
  peers?: Measure[];
  /** `speed`: ratio = baseline time / candidate time (>= target is good). */
  target?: { ratio: number; text: string };
  /** Times each measure is run. Default 7. */
  runs?: number;
  /** A custom figure instead of timings (e.g. ops/s, bytes from store / size). */
  figure?: () => Promise<{ value: number; unit: string; target?: number; higherIsBetter?: boolean; detail?: string }>;
  /** Times `figure` is measured (median, min and max are reported). Default 1. */
  figureRuns?: number;
  /** A line printed under the table (what the figure means, how the case was scaled). */
  note?: string;
}

/** Timings of one measure. */
export interface Timing {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Every timed run, in the order they ran. */
  samplesMs?: number[];
  /** Baseline (or peer) time / candidate time, for baselines and peers. */
  ratio?: number;
  skipped?: string;
}

/** A result row. */
export interface BenchResult {
  title: string;
  id?: string;
  candidate?: Timing;
  baseline?: Timing;
  peers?: Timing[];
  ratio?: number;
  figure?: { value: number; unit: string; min?: number; max?: number; runs?: number; detail?: string };
  target?: string;
  met?: boolean;
  note?: string;
  skipped?: string;
  /** The 1-minute load average when the case finished (how noisy the machine was). */
  load?: number;
}

/** `global.gc`, made available without a command-line flag. */
const collectGarbage: () => void = (() => {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

async function timed(measure: Measure): Promise<number> {
  await measure.beforeEach?.();
  collectGarbage();
  const start = process.hrtime.bigint();
  await measure.run();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await measure.afterEach?.();
  return ms;
}

function summary(name: string, samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return { name, medianMs: median(sorted), minMs: sorted[0]!, maxMs: sorted.at(-1)!, samplesMs: samples };
}

/** The median of some numbers (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs the measures of a case interleaved, `runs` rounds. Skipped measures are reported as such;
 * a peer that fails is reported as failed and left out of the later rounds (a failing baseline
 * or candidate fails the case).
 */
async function timeAll(measures: Measure[], runs: number, optional: Set<Measure>): Promise<Timing[]> {
  const failed = new Map<Measure, string>();
  const attempt = async (m: Measure, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (error) {
      if (!optional.has(m)) throw error;
      failed.set(m, `failed: ${(error as Error).message}`);
    }
  };
  for (const m of measures) if (!m.skip) await attempt(m, async () => m.before?.());
  const samples = new Map<Measure, number[]>(measures.map((m) => [m, []]));
  for (let round = 0; round < runs; round++) {
    const active = measures.filter((m) => !m.skip && !failed.has(m));
    // Rotated each round, and reversed in every other block of `n` rounds: each measure takes
    // every place in turn, and no measure always follows the same one.
    if (Math.floor(round / active.length) % 2 === 1) active.reverse();
    for (let k = 0; k < active.length; k++) {
      const m = active[(round + k) % active.length]!;
      await attempt(m, async () => void samples.get(m)!.push(await timed(m)));
    }
  }
  return measures.map((m) => {
    const skipped = m.skip ?? failed.get(m);
    return skipped !== undefined ? { name: m.name, medianMs: NaN, minMs: NaN, maxMs: NaN, skipped } : summary(m.name, samples.get(m)!);
  });
}

/** Runs the cases in order and prints their tables. */
export async function runCases(cases: BenchCase[]): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const c of cases) {
    const result: BenchResult = { title: c.title, id: c.id, target: c.target?.text, note: c.note };
    try {
      if (c.figure) {
        const values: number[] = [];
        let last: Awaited<ReturnType<NonNullable<BenchCase['figure']>>> | undefined;
        for (let i = 0; i < (c.figureRuns ?? 1); i++) {
          collectGarbage();
          last = await c.figure();
          values.push(last.value);
        }
        const value = median(values);
        result.figure = { value, unit: last!.unit, detail: last!.detail };
        if (values.length > 1) Object.assign(result.figure, { min: Math.min(...values), max: Math.max(...values), runs: values.length });
        if (last!.target !== undefined) result.met = last!.higherIsBetter === false ? value <= last!.target : value >= last!.target;
      } else {
        const runs = c.runs ?? 7;
        const measures = [...(c.baseline ? [c.baseline] : []), c.candidate, ...(c.peers ?? [])];
        if (c.candidate.skip) throw new Error(c.candidate.skip);
        if (c.baseline?.skip) throw new Error(c.baseline.skip);
        const timings = await timeAll(measures, runs, new Set(c.peers ?? []));
        const byMeasure = new Map(measures.map((m, i) => [m, timings[i]!]));
        result.candidate = byMeasure.get(c.candidate);
        const ratioOf = (t: Timing): number => t.medianMs / result.candidate!.medianMs;
        if (c.baseline) {
          result.baseline = byMeasure.get(c.baseline)!;
          result.baseline.ratio = result.ratio = ratioOf(result.baseline);
          if (c.target) result.met = result.ratio >= c.target.ratio;
        }
        if (c.peers?.length) {
          result.peers = c.peers.map((p) => byMeasure.get(p)!);
          for (const p of result.peers) if (!p.skipped) p.ratio = ratioOf(p);
        }
      }
    } catch (error) {
      result.skipped = (error as Error).message;
    }
    result.load = Math.round(loadavg()[0]! * 100) / 100;
    print(result);
    results.push(result);
  }
  return results;
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(4));
const num = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: n >= 100 ? 0 : 3 });

function print(r: BenchResult): void {
  console.log(`\n## ${r.title}${r.id ? `  [${r.id}]` : ''}`);
  if (r.skipped) {
    console.log(`skipped: ${r.skipped}`);
    return;
  }
  if (r.figure) {
    const f = r.figure;
    const spread = f.runs ? `   (median of ${f.runs}; min ${num(f.min!)}, max ${num(f.max!)})` : '';
    console.log(`figure: ${num(f.value)} ${f.unit}${spread}${r.target ? `   target ${r.target}: ${r.met ? 'met' : 'NOT met'}` : ''}`);
    if (f.detail) console.log(f.detail);
  } else {
    console.log('| measure | median ms | min ms | max ms | ratio vs candidate |');
    console.log('|---|---:|---:|---:|---:|');
    for (const m of [r.baseline, r.candidate, ...(r.peers ?? [])]) {
      if (!m) continue;
      if (m.skipped) console.log(`| ${m.name} | ${m.skipped.startsWith('failed: ') ? m.skipped : `skipped: ${m.skipped}`} | | | |`);
      else console.log(`| ${m.name} | ${fmt(m.medianMs)} | ${fmt(m.minMs)} | ${fmt(m.maxMs)} | ${m === r.candidate ? 'candidate' : `${m.ratio!.toFixed(2)}x`} |`);
    }
    if (r.ratio !== undefined) console.log(`ratio (baseline / candidate time): ${r.ratio.toFixed(2)}x${r.target ? `   target ${r.target}: ${r.met ? 'met' : 'NOT met'}` : ''}`);
  }
  if (r.note) console.log(`note: ${r.note}`);
}

/** The value after `--name` on the command line, if given. */
export function argValue(name: string, argv = process.argv): string | undefined {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
}

/**
 * The `--only` filter (comma-separated names): a case runs when no filter is given, or its id is
 * one of the names, or (for a name that is no case's exact id) its id or title contains it.
 */
export function caseFilter(knownIds: string[] = [], argv = process.argv): (c: { id?: string; title: string }) => boolean {
  const only = argValue('--only', argv);
  if (only === undefined) return () => true;
  const names = only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const exact = new Set(knownIds.map((id) => id.toLowerCase()));
  return (c) =>
    names.some((n) => {
      const id = (c.id ?? c.title).toLowerCase();
      return exact.has(n) ? id === n : id.includes(n) || c.title.toLowerCase().includes(n);
    });
}

/** Writes results to the file named after `--json`, if given. */
export function writeJsonIfAsked(results: BenchResult[], argv = process.argv, extra: Record<string, unknown> = {}): void {
  const i = argv.indexOf('--json');
  if (i < 0) return;
  const next = argv[i + 1];
  const file = next === undefined || next.startsWith('--') ? 'bench-results.json' : next;
  writeFileSync(file, JSON.stringify({ machine: machine(), ...extra, results }, null, 2));
  console.log(`\nwrote ${file}`);
}

/** The machine the figures were measured on. */
export function machine(): Record<string, unknown> {
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
    // glibc's allocator settings change what a new large Buffer costs (see docs/performance.md).
    glibcTunables: process.env.GLIBC_TUNABLES ?? 'default',
  };
}
