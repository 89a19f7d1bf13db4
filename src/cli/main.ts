#!/usr/bin/env node
/**
 * The `stratafs` command (package `bin`): `stratafs [--config FILE] [--json] <command> ...`.
 * See docs/cli.md.
 * @module
 */
import { run } from './run.js';

void run(process.argv.slice(2), { handleSignals: true }).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(`stratafs: EIO: ${(error as Error)?.message ?? String(error)}\n`);
    process.exit(1);
  },
);
