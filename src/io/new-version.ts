/**
 * Reading a file again at its new version when it changed while it was read (`ESTALE`): a read
 * gives one whole version, never a mix, and a file rewritten now and then is still read.
 * @module
 */

/** How many times in all a read is tried while the file keeps changing under it. */
export const VERSION_ATTEMPTS = 3;

/**
 * Runs `attempt` until it resolves. When it fails and `again(error)` says so (the file changed
 * under it, and what the next attempt needs is ready), it runs again: {@link VERSION_ATTEMPTS}
 * times in all, then the last failure is thrown.
 */
export async function readAgainOnNewVersion<T>(attempt: () => Promise<T>, again: (error: unknown) => boolean): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= VERSION_ATTEMPTS || !again(error)) throw error;
    }
  }
}
