/**
 * The stream `cos-nodejs-sdk-v5` downloads into. The SDK pipes every response body into its
 * `Output` stream, error bodies included; its HTTP layer (`request`) copies the status and
 * headers onto a destination that has `setHeader`, before the first byte. This sink uses that
 * to learn the status and headers early and to drop the bytes of error responses.
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';

/** A pass-through stream that learns the HTTP status before the body and swallows error bodies. */
export class ResponseSink extends Transform {
  #status: number | undefined;
  readonly #onStatus: (status: number) => void;

  /** @param onStatus called once, with the status, when the response starts. */
  constructor(onStatus: (status: number) => void) {
    super();
    this.#onStatus = onStatus;
  }

  /** The response's headers (lower-case names), complete once the status is known. */
  readonly headers: Record<string, string> = {};

  /** Called by the HTTP layer for each response header, before it sets the status. */
  setHeader(name: string, value: unknown): void {
    this.headers[name.toLowerCase()] = Array.isArray(value) ? String(value[0]) : String(value);
  }

  /** Set by the HTTP layer once the response starts. */
  set statusCode(status: number) {
    if (this.#status !== undefined) return;
    this.#status = status;
    this.#onStatus(status);
  }

  get statusCode(): number | undefined {
    return this.#status;
  }

  /** Closed before the response ended (a reader that stopped early): fail, so the SDK aborts the request. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    callback(error ?? (this.writableFinished ? null : new Error('download closed before the end of the response')));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#status !== undefined && this.#status >= 300) callback();
    else callback(null, chunk);
  }
}
