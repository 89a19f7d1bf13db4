/**
 * Connections of the shared tier: ioredis loaded lazily (an optional peer dependency), a client
 * from a URL (one server, or a Cluster from a comma-separated seed list) with fail-fast options,
 * and a duplicate connection for the invalidation subscriber.
 * @module
 */
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { StrataError, invalid } from '../../errors.js';
import type { Milliseconds } from '../../size.js';

/** A Redis or Redis Cluster client. */
export type RedisClient = Redis | Cluster;

/** The parts of `ioredis` the tier uses. */
export interface IoredisModule {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
}

let loading: Promise<IoredisModule> | undefined;

/** `ioredis`, imported on first use (`ENOTSUP` naming the package when it is missing). */
export function loadIoredis(): Promise<IoredisModule> {
  const load: Promise<IoredisModule> =
    loading ??
    import('ioredis').then(
      (sdk): IoredisModule => ({ Redis: sdk.Redis, Cluster: sdk.Cluster }),
      (error: unknown) => {
        loading = undefined;
        throw new StrataError('ENOTSUP', `the shared cache needs the package 'ioredis' (npm install ioredis)`, { cause: error });
      },
    );
  loading = load;
  return load;
}

/** A second connection with the same settings (for the pub/sub subscriber). */
export function duplicateClient(client: RedisClient): RedisClient {
  return (client as unknown as { duplicate(): RedisClient }).duplicate();
}

/** True when `value` looks like an ioredis `Redis` or `Cluster`. */
export function isRedisClient(value: unknown): value is RedisClient {
  const c = value as { isCluster?: unknown; duplicate?: unknown; pipeline?: unknown } | null;
  return typeof c === 'object' && c !== null && typeof c.isCluster === 'boolean' && typeof c.duplicate === 'function' && typeof c.pipeline === 'function';
}

/** What a URL setting means. */
export interface ParsedRedisUrl {
  /** Cluster seed nodes, or `undefined` for one server. */
  nodes?: { host: string; port: number }[];
  /** The URL for one server. */
  url?: string;
  username?: string;
  password?: string;
  tls: boolean;
  /** Strings to hide from messages. */
  secrets: string[];
}

/** Parses `url` (see `SharedTierOptions.url`); `EINVAL` without the URL's credentials in the message. */
export function parseRedisUrl(url: string, cluster = false): ParsedRedisUrl {
  if (typeof url !== 'string' || url.trim() === '') throw invalid(`shared cache option 'url' must be a redis:// URL`);
  const parts = url.split(',').map((p) => p.trim()).filter(Boolean);
  const first = parse(parts[0]!, undefined);
  const secrets = [first.password, first.username].filter((s): s is string => !!s && s.length >= 4);
  if (parts.length === 1 && !cluster) return { url: parts[0]!, username: first.username, password: first.password, tls: first.tls, secrets };
  const nodes = parts.map((p) => {
    const u = parse(p, first.scheme);
    return { host: u.host, port: u.port };
  });
  return { nodes, username: first.username, password: first.password, tls: first.tls, secrets };
}

function parse(text: string, defaultScheme: string | undefined): { scheme: string; host: string; port: number; username?: string; password?: string; tls: boolean } {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `${defaultScheme ?? 'redis'}://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw invalid(`shared cache option 'url' is not a valid redis:// URL or list of host:port`);
  }
  const scheme = u.protocol.slice(0, -1);
  if (scheme !== 'redis' && scheme !== 'rediss') throw invalid(`shared cache option 'url' must use redis:// or rediss://, got ${scheme}://`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalid(`shared cache option 'url' has no host`);
  return {
    scheme,
    host,
    port: u.port === '' ? 6379 : Number(u.port),
    username: u.username === '' ? undefined : decodeURIComponent(u.username),
    password: u.password === '' ? undefined : decodeURIComponent(u.password),
    tls: scheme === 'rediss',
  };
}

/** Reconnect every 50 ms × attempts, at most every second: the breaker decides when to use it again. */
const retryStrategy = (times: number): number => Math.min(50 * times, 1000);

/** A new client for `parsed`, with options that fail fast instead of queueing. */
export async function createClient(parsed: ParsedRedisUrl, connectTimeout: Milliseconds): Promise<RedisClient> {
  const sdk = await loadIoredis();
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout,
    connectionName: 'stratafs',
    retryStrategy,
  };
  if (!parsed.nodes) return new sdk.Redis(parsed.url!, common);
  const { enableOfflineQueue: _q, retryStrategy: _r, ...redisOptions } = common;
  const options: ClusterOptions = {
    enableOfflineQueue: false,
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    slotsRefreshTimeout: Math.max(1000, connectTimeout),
    redisOptions: {
      ...redisOptions,
      ...(parsed.username !== undefined ? { username: parsed.username } : {}),
      ...(parsed.password !== undefined ? { password: parsed.password } : {}),
      ...(parsed.tls ? { tls: {} } : {}),
    },
  };
  return new sdk.Cluster(parsed.nodes, options);
}

/** What Redis answers when it refuses a connection's credentials (or needs some): no point waiting. */
const REFUSED_AUTH = /WRONGPASS|NOAUTH|invalid (username-)?password|AUTH .*failed/i;

/**
 * Resolves `true` once `client` is ready; otherwise, after `timeoutMs` (connecting goes on in
 * the background) or as soon as Redis refuses the credentials, why not (no secret in it).
 */
export async function waitReady(client: RedisClient, timeoutMs: Milliseconds): Promise<true | string> {
  if (client.status === 'ready') return true;
  if (client.status === 'wait') client.connect().catch(() => undefined);
  return new Promise<true | string>((resolve) => {
    const done = (outcome: true | string): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      resolve(outcome);
    };
    const onReady = (): void => done(true);
    const onError = (error: unknown): void => {
      const text = String((error as Error)?.message ?? '');
      if (REFUSED_AUTH.test(text)) done(`Redis refused the credentials (${/WRONGPASS|NOAUTH/i.exec(text)?.[0]?.toUpperCase() ?? 'authentication failed'})`);
    };
    const timer = setTimeout(() => done(`no connection within ${timeoutMs} ms`), timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

/**
 * Calls `onData` whenever bytes arrive on any connection of `client` (each node of a Cluster),
 * across reconnections: the sign of life that tells a busy Redis from a frozen one.
 */
export function watchProgress(client: RedisClient, onData: () => void): void {
  const hooked = new WeakSet<object>();
  const attach = (redis: Redis): void => {
    const hook = (): void => {
      const stream = (redis as { stream?: { on(event: 'data', listener: () => void): unknown } }).stream;
      if (stream && !hooked.has(stream)) {
        hooked.add(stream);
        stream.on('data', onData);
      }
    };
    redis.on('connect', hook);
    hook();
  };
  if (client.isCluster) {
    const cluster = client as Cluster;
    for (const node of cluster.nodes('all')) attach(node);
    cluster.on('+node', attach);
  } else attach(client as Redis);
}
