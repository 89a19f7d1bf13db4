/**
 * A group of benchmark cases that share their data (one object, one directory…): the ids it
 * can make, and a `make` that creates the data only for the cases asked for.
 */
import type { BenchCase } from './harness.js';
import type { BenchEnv } from './env.js';

/** What a group made: its cases, and how to release what they hold. */
export interface MadeGroup {
  cases: BenchCase[];
  close?: () => Promise<void>;
}

/** A group of cases (see the module comment). */
export interface CaseGroup {
  /** What the data is, printed before the group runs. */
  name: string;
  /** Ids of every case the group can make (for `--only`). */
  ids: readonly string[];
  /** Creates the data and the cases whose ids `wanted` accepts. */
  make(env: BenchEnv, wanted: (id: string) => boolean): Promise<MadeGroup>;
}
