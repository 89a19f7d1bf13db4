/**
 * Runs one `stratafs` invocation: parse, run the command, close the file system (flushing
 * pending writes), and turn a failure into one line on stderr and an exit code.
 * @module
 */
import { CommanderError } from 'commander';
import { invalid } from '../errors.js';
import { CliContext, type CliStreams } from './context.js';
import { EXIT, describeFailure, type Failure } from './exit-codes.js';
import { buildProgram } from './program.js';

/** Options of {@link run}. */
export interface RunOptions {
  /** Where output goes; default the process's stdout and stderr. */
  streams?: CliStreams;
  /**
   * Abort the running command on the first Ctrl-C or SIGTERM (a second one exits at once), so that
   * it cleans up (no temp files, no half-written objects); default false.
   */
  handleSignals?: boolean;
}

/** Runs the command line `argv` (without `node` and the script) and resolves with the exit code. */
export async function run(argv: string[], options: RunOptions = {}): Promise<number> {
  const streams = options.streams ?? { stdout: process.stdout, stderr: process.stderr };
  const ctx = new CliContext(streams);
  const program = buildProgram(ctx);
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (ctx.signal.aborted) process.exit(exitCodeOfSignal(stoppedBy ?? signal));
    stoppedBy = signal;
    ctx.controller.abort();
  };
  if (options.handleSignals) for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  let failure: (Failure & { error: unknown }) | undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    failure = { ...failureOf(error, argv, program.commands.map((c) => c.name())), error };
  } finally {
    try {
      await ctx.close();
    } catch (error) {
      failure ??= { ...describeFailure(error), error };
    }
    if (options.handleSignals) for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  if (!failure) return EXIT.ok;
  if (failure.exitCode === EXIT.ok) return EXIT.ok; // --help, --version
  if (failure.exitCode === EXIT.interrupted && stoppedBy !== undefined) failure.exitCode = exitCodeOfSignal(stoppedBy);
  streams.stderr.write(failure.line + '\n');
  if (ctx.globals.debug === true || argv.includes('--debug')) streams.stderr.write(stackOf(failure.error) + '\n');
  return failure.exitCode;
}

/** The signals that stop a command cleanly. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** 130 after Ctrl-C, 143 after SIGTERM (128 + the signal number, as shells report). */
function exitCodeOfSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
}

/** A commander error is a usage error (exit 2), help and version are not errors. */
function failureOf(error: unknown, argv: readonly string[], commands: readonly string[]): Failure {
  if (!(error instanceof CommanderError)) return describeFailure(error);
  if (error.exitCode === 0) return { exitCode: EXIT.ok, line: '' };
  if (error.code === 'commander.help') {
    // `stratafs help NAME` of no command, or no command at all.
    const asked = argv[argv.indexOf('help') + 1];
    if (argv.includes('help') && asked !== undefined && !commands.includes(asked)) {
      const named = /^[\w-]{1,32}$/.test(asked) ? ` '${asked}'` : '';
      return describeFailure(invalid(`unknown command${named} (see stratafs --help)`));
    }
    return describeFailure(invalid('missing command (see stratafs --help)'));
  }
  return describeFailure(invalid(error.message.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ')));
}

/** The stack of an error and of its causes, for `--debug`. */
function stackOf(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { stack?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    parts.push((depth > 0 ? 'Caused by: ' : '') + (e.stack ?? String(e)));
  }
  return parts.join('\n');
}
