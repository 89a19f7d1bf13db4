#!/usr/bin/env node
/**
 * The `stratafs` command (package `bin`): `stratafs [--config FILE] [--json] <command> ...`.
 * See docs/cli.md.
 * @module
 */
import { run } from './run.js';

// A failure prints one line on stderr: not the AWS SDK's multi-line notice about future Node.js versions.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let finished = false;
// Should the event loop ever run dry before the command settles, fail loudly instead of exiting 0.
process.on('beforeExit', () => {
  if (finished) return;
  finished = true;
  process.stderr.write('stratafs: EIO: the operation stopped before it finished\n');
  process.exit(1);
});

void run(process.argv.slice(2), { handleSignals: true }).then(
  (code) => {
    finished = true;
    process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    finished = true;
    process.stderr.write(`stratafs: EIO: ${(error as Error | undefined)?.message ?? String(error)}\n`);
    process.exit(1);
  },
);
