/**
 * Lazy loading of store SDKs: importing stratafs loads no SDK; a connector's first call does,
 * once per process. A missing package is an `ENOTSUP` that names it.
 * @module
 */
import { StrataError } from '../errors.js';

/**
 * A function that imports an SDK on its first call and returns the same module afterwards.
 * `importer` is the connector's own `() => import('package')` (so bundlers and the type checker
 * see the literal specifier). A failed import is retried on the next call.
 */
export function lazySdk<T>(packageName: string, connector: string, importer: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= importer().catch((error: unknown) => {
      loading = undefined;
      throw new StrataError('ENOTSUP', `the ${connector} connector needs the package '${packageName}' (npm install ${packageName})`, { cause: error });
    });
    return loading;
  };
}

/**
 * Imports an optional peer package, or resolves to `undefined` when it is not installed. The
 * specifier is a variable on purpose: the type checker and bundlers must not require it.
 */
export async function importOptional(packageName: string): Promise<unknown> {
  try {
    return await import(packageName);
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}
