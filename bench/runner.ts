/**
 * Runs groups of cases: applies `--only`, makes each group that has a wanted case (creating its
 * data), runs its cases, releases it, stops the emulators, and writes `--json FILE` if asked.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BenchEnv } from './env.js';
import type { CaseGroup } from './group.js';
import { caseFilter, machine, runCases, writeJsonIfAsked, type BenchResult } from './harness.js';
import { loadOpendal, rcloneVersion } from './peers.js';

const PACKAGES = ['@aws-sdk/client-s3', '@azure/storage-blob', 's3rver', 'azurite', 'hyparquet', 'hyparquet-writer', 'lru-cache', 'better-sqlite3'];

/** Versions of the SDKs, emulators and peers in this run. */
async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of PACKAGES) {
    try {
      out[name] = (JSON.parse(readFileSync(join(process.cwd(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      out[name] = 'not installed';
    }
  }
  const opendal = await loadOpendal();
  out.opendal = typeof opendal === 'string' ? 'not installed' : opendal.version;
  out.rclone = rcloneVersion() ?? 'not on PATH';
  return out;
}

/** Runs `groups` (see the module comment); resolves every result. */
export async function runGroups(groups: CaseGroup[], argv = process.argv, extra: () => Record<string, unknown> = () => ({})): Promise<BenchResult[]> {
  const filter = caseFilter(groups.flatMap((g) => [...g.ids]), argv);
  const wanted = (id: string): boolean => filter({ id, title: id });
  const env = new BenchEnv();
  const results: BenchResult[] = [];
  const started = Date.now();
  const m = machine();
  const v = await versions();
  console.log(`# stratafs benchmarks: Node ${m.node}, ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  console.log(`# glibc allocator: ${String(m.glibcTunables)}`);
  console.log(`# ${Object.entries(v).map(([k, value]) => `${k} ${value}`).join(', ')}`);
  try {
    for (const group of groups) {
      if (!group.ids.some(wanted)) continue;
      const t0 = Date.now();
      console.log(`\n# ${group.name}: preparing…`);
      let made;
      try {
        made = await group.make(env, wanted);
      } catch (error) {
        const reason = `failed to prepare the data: ${(error as Error).stack ?? String(error)}`;
        console.log(reason);
        for (const id of group.ids.filter(wanted)) results.push({ title: id, id, skipped: reason });
        continue;
      }
      console.log(`# prepared in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      try {
        results.push(...(await runCases(made.cases)));
      } finally {
        await made.close?.();
      }
    }
  } finally {
    await env.close();
  }
  printSummary(results);
  console.log(`\n# ${results.length} cases in ${((Date.now() - started) / 1000).toFixed(0)} s; load average now ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  writeJsonIfAsked(results, argv, { seconds: Math.round((Date.now() - started) / 1000), versions: v, loadAverageAtEnd: loadavg(), ...extra() });
  return results;
}

/** One line per case: its ratio or figure against its target. */
function printSummary(results: BenchResult[]): void {
  console.log('\n# summary\n| case | result | target | |\n|---|---:|---|---|');
  for (const r of results) {
    const value = r.skipped
      ? `skipped`
      : r.figure
        ? `${r.figure.value.toLocaleString('en-US', { maximumFractionDigits: 3 })} ${r.figure.unit.split(' (')[0]}`
        : r.ratio !== undefined
          ? `${r.ratio.toFixed(2)}x`
          : `${r.candidate?.medianMs.toFixed(1)} ms`;
    const verdict = r.skipped ? r.skipped.split('\n')[0]!.slice(0, 120) : r.met === undefined ? '' : r.met ? 'met' : 'NOT met';
    console.log(`| ${r.id ?? r.title} | ${value} | ${r.target ?? ''} | ${verdict} |`);
  }
}
