/**
 * Registers the built-in URI schemes. Each connector module is imported only when a URI of its
 * scheme is mounted, so importing stratafs loads no cloud SDK.
 * @module
 */
import { registerStore } from './registry.js';

let registered = false;

/** Registers `memory:`, `file:` and the cloud schemes once. */
export function registerBuiltinStores(): void {
  if (registered) return;
  registered = true;
  registerStore('memory', async (uri) => (await import('./memory/memory-store.js')).MemoryStore.fromUri(uri));
  registerStore('file', async (uri) => (await import('./local/local-store.js')).LocalStore.fromUri(uri));
}
