/**
 * The `stratafs` command line: global options and the command groups, on commander.
 * @module
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import type { CliContext, GlobalOptions } from './context.js';
import { registerCacheCommands } from './cache-commands.js';
import { registerCopyCommand } from './copy-command.js';
import { registerInfoCommands } from './info-commands.js';
import { registerReadCommands } from './read-commands.js';
import { registerWriteCommands } from './write-commands.js';

const EXIT_HELP = `
Paths are logical paths of the namespace (/data/x). cp also takes local files as file:/abs/path,
and - for stdin (as SRC) or stdout (as DST).
The config is --config FILE, else ./stratafs.config.json.

Exit codes: 0 ok, 1 other error, 2 usage or EINVAL, 3 ENOENT, 4 EACCES/EROFS,
5 EEXIST/ENOTEMPTY/EISDIR/ENOTDIR/EBUSY/EXDEV, 6 ETIMEDOUT/EIO/ESTALE, 130 interrupted,
143 SIGTERM.`;

/** The commander program of one invocation, writing through `ctx`. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('stratafs')
    .description('Browse and manage a stratafs namespace from the shell.')
    .option('--config <file>', 'JSON config file (default: ./stratafs.config.json)')
    .option('--json', 'machine-readable output')
    .option('--debug', 'print the stack of an error')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.streams.stdout.write(text),
      writeErr: () => undefined, // usage errors are reported as one line by the runner
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .helpCommand(true)
    .addHelpText('after', EXIT_HELP);
  const version = packageVersion();
  if (version !== undefined) program.version(version, '-V, --version');
  program.hook('preAction', (_program, action) => {
    ctx.globals = action.optsWithGlobals<GlobalOptions>();
  });
  registerReadCommands(program, ctx);
  registerCopyCommand(program, ctx);
  registerWriteCommands(program, ctx);
  registerInfoCommands(program, ctx);
  registerCacheCommands(program, ctx);
  return program;
}

/** The version in stratafs's package.json, found by walking up from the running script. */
function packageVersion(): string | undefined {
  try {
    let dir = dirname(realpathSync(process.argv[1] ?? '.'));
    for (let i = 0; i < 5; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'stratafs') return pkg.version;
      } catch {
        // not here
      }
      dir = dirname(dir);
    }
  } catch {
    // no script path
  }
  return undefined;
}
