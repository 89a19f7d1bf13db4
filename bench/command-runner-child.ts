/**
 * The helper process of `command-runner.ts`: runs each command it is sent, counts the bytes the
 * command writes to stdout, and answers with its exit code, that count and the end of its stderr.
 */
import { spawn } from 'node:child_process';
import type { CommandRequest, CommandResult } from './command-runner.js';

function run(request: CommandRequest): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(request.command, request.args, { env: request.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', (error) => resolve({ id: request.id, code: null, bytes, stderr: error.message }));
    child.once('close', (code) => resolve({ id: request.id, code, bytes, stderr }));
  });
}

process.on('message', (request: CommandRequest) => {
  void run(request).then((result) => process.send?.(result));
});
process.send?.({ ready: true });
