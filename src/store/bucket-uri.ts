/**
 * What the cloud connectors share about their URIs and settings: `scheme://bucket/prefix`
 * parsing and the check that every setting name is known.
 * @module
 */
import { invalid } from '../errors.js';
import { describe, normalizePrefix } from '../path.js';
import type { StoreSettings } from './under-store.js';

/** A parsed `scheme://bucket/prefix`: the bucket (or container) and the normalised key prefix. */
export interface BucketUri {
  /** The URI's host, `%`-decoded, as written (not lower-cased). */
  bucket: string;
  /** The URI's path as a key prefix: no leading or trailing `/`, `''` for the whole bucket. */
  prefix: string;
}

/** How {@link parseBucketUri} names what it parses in its messages. */
export interface BucketUriRules {
  /** Schemes accepted, without `:` (`['gs', 'gcs']`). */
  schemes: readonly string[];
  /** The connector, for messages (`'Azure Blob'`). */
  connector: string;
  /** What the host names (`'container'`, `'bucket'`). */
  bucketWord: string;
}

/**
 * Reads `scheme://bucket/prefix`. Throws `EINVAL` for another scheme, credentials, a port, a
 * query or fragment (settings go in the mount's options), a missing bucket, a malformed
 * `%`-escape, or a prefix with empty, `.` or `..` segments. The bucket name itself is checked
 * by the connector.
 */
export function parseBucketUri(uri: URL, rules: BucketUriRules): BucketUri {
  const { connector, bucketWord } = rules;
  const shape = `${rules.schemes[0]}://${bucketWord}/prefix`;
  if (!(uri instanceof URL)) throw invalid(`${connector} store URI must be a URL, got ${describe(uri)}`);
  const scheme = uri.protocol.slice(0, -1).toLowerCase();
  if (!rules.schemes.includes(scheme)) throw invalid(`not a ${connector} URI (expected ${shape}): scheme '${uri.protocol}'`);
  if (uri.username !== '' || uri.password !== '') throw invalid(`${connector} URI must not carry credentials; pass them in options`);
  if (uri.port !== '') throw invalid(`${connector} URI must not have a port (set options.endpoint / apiEndpoint for another server)`);
  if (uri.search !== '' || uri.hash !== '') throw invalid(`${connector} URI must not have a query or fragment; pass settings in options`);
  let bucket: string;
  let path: string;
  try {
    bucket = decodeURIComponent(uri.hostname);
    path = decodeURIComponent(uri.pathname);
  } catch {
    throw invalid(`${connector} URI has a malformed %-escape`);
  }
  if (bucket === '') throw invalid(`${connector} URI needs a ${bucketWord}: ${shape}`);
  return { bucket, prefix: normalizePrefix(path, `${connector} URI path`) };
}

/**
 * The path part of a store URI for a key prefix: `''` for none, else `/` and each segment
 * `%`-encoded (`a b/100%` -> `/a%20b/100%25`), so that {@link parseBucketUri} (or any URI parser
 * that decodes the path) reads back the same prefix, whatever characters its names hold.
 */
export function prefixPath(prefix: string): string {
  return prefix === '' ? '' : '/' + prefix.split('/').map(encodeURIComponent).join('/');
}

/**
 * Checks that `settings` is a plain object whose defined keys are all in `known`. Throws
 * `EINVAL` naming the unknown ones (never their values, which may be secrets).
 */
export function checkSettingNames(settings: unknown, known: readonly string[], connector: string): StoreSettings {
  if (settings === undefined || settings === null) return {};
  if (typeof settings !== 'object' || Array.isArray(settings)) throw invalid(`${connector} settings must be an object, got ${describe(settings)}`);
  const record = settings as StoreSettings;
  const unknown = Object.keys(record).filter((k) => record[k] !== undefined && !known.includes(k));
  if (unknown.length > 0) throw invalid(`unknown ${connector} setting(s): ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return record;
}

/**
 * A setting that must be a non-empty string when given. The message names the setting and
 * the type it got, never the value.
 */
export function optionalString(value: unknown, name: string, connector: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw invalid(`${connector} setting '${name}' must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : typeof value}`);
  return value;
}

/** A setting that must be an `http:` or `https:` URL without credentials, query or fragment. */
export function optionalEndpoint(value: unknown, name: string, connector: string): string | undefined {
  const text = optionalString(value instanceof URL ? value.href : value, name, connector);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`${connector} setting '${name}' is not a URL (expected http(s)://host[:port][/path])`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`${connector} setting '${name}' must be an http: or https: URL, got '${url.protocol}'`);
  if (url.username !== '' || url.password !== '') throw invalid(`${connector} setting '${name}' must not carry credentials`);
  if (url.search !== '' || url.hash !== '') throw invalid(`${connector} setting '${name}' must not have a query or fragment`);
  return text.replace(/\/+$/, '');
}
