/**
 * URI scheme -> store factory. Built-in connectors register themselves here lazily; third
 * parties call {@link registerStore}.
 * @module
 */
import { invalid } from '../errors.js';
import type { StoreFactory, StoreSettings, UnderStore } from './under-store.js';

const factories = new Map<string, StoreFactory>();

/**
 * Makes URIs of `scheme` (without `:`, e.g. `'mystore'`) mount through `factory`. A later
 * registration of the same scheme replaces the earlier one, built-in schemes included.
 */
export function registerStore(scheme: string, factory: StoreFactory): void {
  if (typeof scheme !== 'string' || !/^[a-z][a-z0-9+.-]*$/i.test(scheme)) throw invalid(`scheme must be letters, digits, '+', '.', '-': ${JSON.stringify(scheme)}`);
  if (typeof factory !== 'function') throw invalid('registerStore needs a factory function');
  factories.set(scheme.toLowerCase(), factory);
}

/** Parses `uri` and asks the factory of its scheme for a store. `EINVAL` for bad or unknown URIs. */
export async function createStore(uri: string, options: StoreSettings = {}): Promise<UnderStore> {
  if (typeof uri !== 'string' || uri.length === 0) throw invalid('store URI must be a non-empty string');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s\\]/.test(uri)) throw invalid('store URI must not contain whitespace, control characters or backslashes');
  checkWrittenPath(uri);
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    // Not quoted: what does not parse may be a secret put in the wrong place (a key with '/', a connection string).
    throw invalid('not a URI (expected scheme://bucket/prefix, e.g. s3://my-bucket/data; credentials go in options)');
  }
  if (parsed.username || parsed.password) throw invalid('store URI must not carry credentials; pass them in options');
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  const factory = factories.get(scheme);
  const known = [...factories.keys()].sort().join(', ');
  // A scheme is quoted only when short: `KEY:SECRET@bucket` parses with the key id as its scheme.
  if (!factory) throw invalid(`unknown store scheme${scheme.length <= 12 ? ` '${scheme}:'` : ''} (known: ${known})`);
  const store = await factory(parsed, options);
  const gaps = underStoreGaps(store);
  if (gaps.length > 0) throw invalid(`the factory for '${scheme}:' did not return an UnderStore (it lacks ${gaps.join(', ')})`);
  return store;
}

/**
 * `EINVAL` for what URL parsing would silently change into another store: a path after the
 * scheme that is not absolute (`file:data` would be `/data`, not `./data`), and `.` or `..`
 * segments, also `%`-encoded (`file:///srv/%2e%2e/etc` would be `/etc`).
 */
function checkWrittenPath(uri: string): void {
  const colon = uri.indexOf(':');
  if (colon > 0 && /^[a-z][a-z0-9+.-]*$/i.test(uri.slice(0, colon)) && !uri.startsWith('/', colon + 1)) {
    throw invalid('store URI must be absolute: scheme:// then the bucket, host or path (e.g. file:///abs/dir, s3://bucket/prefix)');
  }
  const path = uri.replace(/[?#].*$/s, '');
  if (/\/(?:\.|%2e){1,2}(?=\/|$)/i.test(path)) throw invalid('store URI must not contain "." or ".." path segments');
}

/** True when `value` has the shape of an {@link UnderStore}. */
export function isUnderStore(value: unknown): value is UnderStore {
  return underStoreGaps(value).length === 0;
}

const METHODS = ['stat', 'list', 'read', 'write', 'delete'] as const;

/** What `value` lacks to be an {@link UnderStore} (`['uri', 'list']`), for a message; `[]` when nothing. */
export function underStoreGaps(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['uri', 'capabilities', ...METHODS];
  const s = value as Partial<Record<string, unknown>>;
  const gaps: string[] = [];
  if (typeof s.uri !== 'string') gaps.push('uri');
  if (typeof s.capabilities !== 'object' || s.capabilities === null) gaps.push('capabilities');
  for (const method of METHODS) if (typeof s[method] !== 'function') gaps.push(method);
  return gaps;
}
