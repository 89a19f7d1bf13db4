/**
 * A fault-injecting HTTP proxy for tests: it sits on 127.0.0.1 between an SDK and an emulator
 * (point the connector's endpoint at `proxy.endpoint`) and forwards every request unchanged,
 * except those a test scripts a fault for:
 *
 * - `{ status: 503 | 500 | 429 }` answers with that status and an S3-style XML error;
 * - `{ reset: 'before' }` drops the connection before any answer;
 * - `{ reset: 'during' }` sends the headers and half the body, then drops the connection;
 * - `{ truncate: true }` sends the real `Content-Length` but only half the body, then ends;
 * - `{ delayBodyMs: N }` holds the body back for N ms after the headers;
 * - `{ contentRange: 'bytes 0-9/100' }` rewrites the `Content-Range` header;
 * - `{ headers: { 'content-length': '0' } }` replaces those answer headers (a lagging `HEAD`);
 * - `{ webPage: true }` answers 200 with an HTML page, as a web server at the wrong address does
 *   (`{ webPage: 404 }`: that status with the page).
 *
 * Faults apply to requests that match (`method`, a `path` substring, `header`), `times` times.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One scripted fault. */
export interface Fault {
  method?: string;
  path?: string | RegExp;
  /** Only requests that carry this header, or one of these (e.g. `['range', 'x-ms-range']`). */
  header?: string | string[];
  /** How many matching requests get it (default 1). */
  times?: number;
  status?: number;
  reset?: 'before' | 'during';
  truncate?: boolean;
  delayBodyMs?: number;
  contentRange?: string;
  headers?: Record<string, string>;
  webPage?: boolean | number;
}

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** Adds a fault (applied in the order added). */
  add(fault: Fault): void;
  /** Drops all remaining faults. */
  clear(): void;
  /** Requests seen, as `METHOD path`. */
  readonly seen: string[];
  /** Number of faults applied so far. */
  readonly applied: number;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`http://127.0.0.1:PORT`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const faults: (Fault & { left: number })[] = [];
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let applied = 0;

  const take = (req: IncomingMessage): Fault | undefined => {
    const i = faults.findIndex(
      (f) =>
        f.left > 0 &&
        (!f.method || f.method === req.method) &&
        (!f.path || (typeof f.path === 'string' ? req.url!.includes(f.path) : f.path.test(req.url!))) &&
        (!f.header || [f.header].flat().some((h) => req.headers[h.toLowerCase()] !== undefined)),
    );
    if (i < 0) return undefined;
    const fault = faults[i]!;
    fault.left--;
    applied++;
    return fault;
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const fault = take(req);
    if (fault?.reset === 'before') {
      req.socket.destroy();
      return;
    }
    if (fault?.webPage) {
      req.resume();
      res.writeHead(fault.webPage === true ? 200 : fault.webPage, { 'content-type': 'text/html; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : '<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>');
      return;
    }
    if (fault?.status) {
      req.resume();
      const code = fault.status === 429 ? 'SlowDown' : fault.status === 503 ? 'ServiceUnavailable' : 'InternalError';
      res.writeHead(fault.status, { 'content-type': 'application/xml', 'x-ms-error-code': code });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected fault</Message></Error>`);
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const headers = { ...up.headers };
      if (fault?.contentRange && headers['content-range']) headers['content-range'] = fault.contentRange;
      Object.assign(headers, fault?.headers);
      res.writeHead(up.statusCode ?? 502, headers);
      if (!fault || (!fault.reset && !fault.truncate && !fault.delayBodyMs)) {
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        const send = (): void => {
          if (fault.reset === 'during') {
            res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
          } else if (fault.truncate) {
            res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.end());
          } else res.end(body);
        };
        if (fault.delayBodyMs) {
          res.flushHeaders();
          setTimeout(send, fault.delayBodyMs);
        } else send();
      });
    });
    forward.on('error', () => res.socket?.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    add: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
    clear: () => void faults.splice(0),
    seen,
    get applied() {
      return applied;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
