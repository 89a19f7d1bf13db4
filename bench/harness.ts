/**
 * The benchmark harness: runs each case several times, prints one table per case with median,
 * min and max, and the ratio against the baseline measured in the same run; `--json FILE`
 * writes the same figures to a file.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** One measured thing: `run` returns nothing (timed) or a figure of its own (e.g. ops/s). */
export interface Measure {
  name: string;
  run: () => Promise<unknown> | unknown;
  /** Called once before the timed runs (warm-up, data preparation). */
  before?: () => Promise<void> | void;
}

/** A case: a candidate measured against a baseline, with a target ratio. */
export interface BenchCase {
  title: string;
  candidate: Measure;
  baseline?: Measure;
  /** `speed`: ratio = baseline time / candidate time (>= target is good). */
  target?: { ratio: number; text: string };
  /** Times each measure is run. Default 7. */
  runs?: number;
  /** A custom figure instead of timings (e.g. ops/s, bytes from store / size). */
  figure?: () => Promise<{ value: number; unit: string; target?: number; higherIsBetter?: boolean }>;
}

/** A result row. */
export interface BenchResult {
  title: string;
  candidate?: { name: string; medianMs: number; minMs: number; maxMs: number };
  baseline?: { name: string; medianMs: number; minMs: number; maxMs: number };
  ratio?: number;
  figure?: { value: number; unit: string };
  target?: string;
  met?: boolean;
  skipped?: string;
}

async function time(measure: Measure, runs: number): Promise<{ name: string; medianMs: number; minMs: number; maxMs: number }> {
  await measure.before?.();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await measure.run();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { name: measure.name, medianMs: samples[Math.floor(samples.length / 2)]!, minMs: samples[0]!, maxMs: samples.at(-1)! };
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(4));

/** Runs the cases in order and prints their tables. */
export async function runCases(cases: BenchCase[]): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const c of cases) {
    const result: BenchResult = { title: c.title, target: c.target?.text };
    try {
      if (c.figure) {
        const f = await c.figure();
        result.figure = { value: f.value, unit: f.unit };
        if (f.target !== undefined) result.met = f.higherIsBetter === false ? f.value <= f.target : f.value >= f.target;
      } else {
        const runs = c.runs ?? 7;
        if (c.baseline) result.baseline = await time(c.baseline, runs);
        result.candidate = await time(c.candidate, runs);
        if (result.baseline) {
          result.ratio = result.baseline.medianMs / result.candidate.medianMs;
          if (c.target) result.met = result.ratio >= c.target.ratio;
        }
      }
    } catch (error) {
      result.skipped = (error as Error).message;
    }
    print(result);
    results.push(result);
  }
  return results;
}

function print(r: BenchResult): void {
  console.log(`\n## ${r.title}`);
  if (r.skipped) {
    console.log(`skipped: ${r.skipped}`);
    return;
  }
  if (r.figure) {
    console.log(`figure: ${r.figure.value.toLocaleString('en-US', { maximumFractionDigits: 3 })} ${r.figure.unit}${r.target ? `   target ${r.target}: ${r.met ? 'met' : 'NOT met'}` : ''}`);
    return;
  }
  console.log('| measure | median ms | min ms | max ms |');
  console.log('|---|---:|---:|---:|');
  for (const m of [r.baseline, r.candidate]) if (m) console.log(`| ${m.name} | ${fmt(m.medianMs)} | ${fmt(m.minMs)} | ${fmt(m.maxMs)} |`);
  if (r.ratio !== undefined) console.log(`ratio (baseline / candidate time): ${r.ratio.toFixed(2)}x${r.target ? `   target ${r.target}: ${r.met ? 'met' : 'NOT met'}` : ''}`);
}

/** Writes results to the file named after `--json`, if given. */
export function writeJsonIfAsked(results: BenchResult[], argv = process.argv): void {
  const i = argv.indexOf('--json');
  if (i < 0) return;
  const file = argv[i + 1] ?? 'bench-results.json';
  writeFileSync(file, JSON.stringify({ machine: machine(), results }, null, 2));
  console.log(`\nwrote ${file}`);
}

/** The machine the figures were measured on. */
export function machine(): Record<string, unknown> {
  return { node: process.version, platform: process.platform, arch: process.arch, cores: cpus().length, memoryGiB: Math.round(totalmem() / 1024 ** 3) };
}
