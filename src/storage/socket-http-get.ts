/**
 * HTTP/1.1 GETs over plain TCP sockets that read the response body straight into a buffer the
 * caller gives (`net.connect`'s `onread` with a buffer function): no Buffer allocated per socket
 * read, so no external-memory garbage for V8 to collect. The S3 store reads objects through it
 * (s3-socket-get.ts); docs/performance.md ("Through S3") has the measurements that made it worth
 * writing: Node's `http` costs ~2.6 CPU-s per GiB read on loopback, mostly garbage collection of
 * the per-read buffers, against ~0.45 for a socket reading into reused memory.
 *
 * What it does, and only that: one request at a time per connection (no pipelining), kept-alive
 * connections reused (a pool per client), a head parsed by hand (status line and headers, at most
 * 64 KiB), a body delimited by Content-Length. A response it does not handle (chunked or
 * close-delimited success bodies, 1xx, another protocol) is refused with
 * {@link UnsupportedResponseError} so the caller can use a full HTTP client instead. Timeouts as
 * the AWS SDK's NodeHttpHandler has them (connect, time to the head, socket inactivity), an abort
 * signal, and nothing left open: a connection whose request failed or was aborted is destroyed;
 * idle ones are unref'd and closed after a while.
 */
import { connect, type Socket } from "node:net";
import type { Clock, TimerHandle } from "../job/clock.js";
import { TruncatedBodyError } from "./s3-errors.js";

export interface SocketHttpTimeouts {
  /** The TCP connection must be open within this, ms. */
  connectMs: number;
  /** The response head must arrive within this after the request started, ms. */
  firstByteMs: number;
  /** No byte received for this long while a request is in flight fails it, ms. */
  stallMs: number;
}

export interface ResponseHead {
  status: number;
  /** Names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** The body's length when Content-Length delimits it; undefined otherwise. */
  contentLength: number | undefined;
  /** Transfer-Encoding: chunked (read only into a `text` sink). */
  chunked: boolean;
}

/**
 * Where a response's body goes, chosen by the caller when the head arrives: `into`, a buffer of
 * exactly `contentLength` bytes (read into directly), or `text` (kept, up to 1 MiB: an error's XML;
 * delimited by Content-Length, chunked, or the connection's close).
 */
export type BodySink = { into: Uint8Array } | { text: true };

/** What a request got so far; the caller reads it after a failure (a body cut midway is resumed from `received`). */
export interface GetProgress {
  head: ResponseHead | undefined;
  /** Body bytes written into the `into` sink. */
  received: number;
  /** The request went on a kept-alive connection that served an earlier one. */
  reused: boolean;
}

/** A response this client does not read (chunked or close-delimited success body, 1xx, not HTTP/1.x). */
export class UnsupportedResponseError extends Error {
  override name = "UnsupportedResponseError";
}

const SCRATCH_BYTES = 64 * 1024;
const MAX_TEXT_BYTES = 1024 * 1024;
/** An idle kept-alive connection is closed after this, ms (servers close theirs after 5-90 s). */
const IDLE_MS = 4_000;
const HEAD_END = Buffer.from("\r\n\r\n");

export function timeoutError(message: string, errno?: string): Error {
  return Object.assign(new Error(message), { name: "TimeoutError", ...(errno ? { code: errno } : {}) });
}

export function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error("The operation was aborted"), { name: "AbortError", cause: signal.reason });
}

interface Active {
  onHead: (head: ResponseHead) => BodySink;
  progress: GetProgress;
  resolve: (r: { head: ResponseHead; text?: string }) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
  firstByteTimer: TimerHandle | undefined;
  connectTimer: TimerHandle | undefined;
  keepAlive: boolean;
  into?: Uint8Array;
  text?: Buffer[];
  textBytes: number;
}

class Connection {
  readonly #scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** Bytes of a response head gathered in the scratch buffer. */
  #headBytes = 0;
  /** The next socket read lands in the `into` sink (else in the scratch buffer, at #headBytes). */
  #armedInto = false;
  #req: Active | undefined;
  #closed = false;
  readonly socket: Socket;
  served = 0;

  constructor(
    host: string,
    port: number,
    private readonly timeouts: SocketHttpTimeouts,
    private readonly clock: Clock,
    private readonly release: (c: Connection, keep: boolean) => void,
  ) {
    this.socket = connect({ host, port, noDelay: true, onread: { buffer: () => this.#nextBuffer(), callback: (n: number) => this.#onRead(n) } });
    this.socket.on("error", (err) => this.#fail(err));
    this.socket.on("close", () => {
      this.#closed = true;
      const r = this.#req;
      if (r?.text && r.progress.head?.contentLength === undefined && !r.progress.head?.chunked) this.#finish(r); // a body delimited by the close
      else if (r) this.#fail(r.progress.head && r.into ? new TruncatedBodyError(r.progress.received, r.into.byteLength) : Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
      this.release(this, false);
    });
    this.socket.on("timeout", () => {
      if (this.#req) this.#fail(timeoutError(`the request socket timed out after ${this.timeouts.stallMs} ms of inactivity`, "ETIMEDOUT"));
      else this.socket.destroy();
    });
  }

  get usable(): boolean {
    return !this.#closed && !this.socket.destroyed && this.#req === undefined;
  }

  request(text: string, onHead: (head: ResponseHead) => BodySink, signal: AbortSignal, progress: GetProgress): Promise<{ head: ResponseHead; text?: string }> {
    return new Promise((resolve, reject) => {
      const r: Active = { onHead, progress, resolve, reject, signal, onAbort: () => this.#fail(abortError(signal)), firstByteTimer: undefined, connectTimer: undefined, keepAlive: false, textBytes: 0 };
      this.#req = r;
      this.#headBytes = 0;
      signal.addEventListener("abort", r.onAbort, { once: true });
      r.firstByteTimer = this.clock.setTimeout(() => this.#fail(timeoutError(`a request has exceeded the configured ${this.timeouts.firstByteMs} ms requestTimeout.`, "ETIMEDOUT")), this.timeouts.firstByteMs, { unref: true });
      if (this.socket.connecting) {
        r.connectTimer = this.clock.setTimeout(() => this.#fail(timeoutError(`the request socket did not establish a connection with the server within the configured timeout of ${this.timeouts.connectMs} ms.`)), this.timeouts.connectMs, { unref: true });
        this.socket.once("connect", () => this.clock.clearTimeout(r.connectTimer));
      }
      this.socket.ref();
      this.socket.setTimeout(this.timeouts.stallMs);
      this.socket.write(text, "latin1");
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  #nextBuffer(): Uint8Array {
    const r = this.#req;
    if (r?.into && r.progress.received < r.into.byteLength) {
      this.#armedInto = true;
      return r.into.subarray(r.progress.received);
    }
    this.#armedInto = false;
    // A head is gathered after what came before it; a text body is read at the start.
    return r && !r.progress.head && this.#headBytes < SCRATCH_BYTES ? this.#scratch.subarray(this.#headBytes) : this.#scratch;
  }

  #onRead(n: number): boolean {
    const r = this.#req;
    if (!r) {
      // Bytes nobody asked for on an idle connection: the stream is out of step; drop it.
      this.socket.destroy();
      return false;
    }
    if (this.#armedInto) {
      r.progress.received += n;
      if (r.progress.received === r.into!.byteLength) this.#finish(r);
      return true;
    }
    if (r.progress.head) {
      this.#body(r, this.#scratch.subarray(0, n));
      return true;
    }
    const from = Math.max(0, this.#headBytes - 3);
    this.#headBytes += n;
    const end = this.#scratch.subarray(0, this.#headBytes).indexOf(HEAD_END, from);
    if (end < 0) {
      if (this.#headBytes >= SCRATCH_BYTES) this.#fail(new UnsupportedResponseError(`the response head is larger than ${SCRATCH_BYTES} bytes`));
      return true;
    }
    let sink: BodySink;
    try {
      const head = parseHead(this.#scratch.toString("latin1", 0, end), r);
      this.clock.clearTimeout(r.firstByteTimer);
      r.progress.head = head;
      sink = r.onHead(head);
      if ("into" in sink) {
        if (head.contentLength === undefined || sink.into.byteLength !== head.contentLength) throw new UnsupportedResponseError("a body sink must hold exactly Content-Length bytes");
        r.into = sink.into;
      } else r.text = [];
    } catch (err) {
      this.#fail(err);
      return false;
    }
    const rest = this.#scratch.subarray(end + HEAD_END.length, this.#headBytes);
    this.#headBytes = 0;
    if ((r.into && r.into.byteLength === 0) || (r.text && r.progress.head.contentLength === 0)) this.#finish(r);
    else this.#body(r, rest);
    return true;
  }

  /** Body bytes that arrived in the scratch buffer. */
  #body(r: Active, bytes: Buffer): void {
    if (bytes.byteLength === 0) return;
    if (r.into) {
      const take = Math.min(bytes.byteLength, r.into.byteLength - r.progress.received);
      r.into.set(bytes.subarray(0, take), r.progress.received);
      r.progress.received += take;
      if (take < bytes.byteLength) r.keepAlive = false; // more than Content-Length: out of step
      if (r.progress.received === r.into.byteLength) this.#finish(r);
      return;
    }
    const { contentLength, chunked } = r.progress.head!;
    const room = Math.max(0, Math.min(contentLength ?? MAX_TEXT_BYTES, MAX_TEXT_BYTES) - r.textBytes);
    if (room > 0) r.text!.push(Buffer.from(bytes.subarray(0, room)));
    r.textBytes += bytes.byteLength;
    if (contentLength !== undefined && r.textBytes >= contentLength) {
      if (r.textBytes > contentLength) r.keepAlive = false;
      this.#finish(r);
    } else if (chunked && (r.textBytes >= MAX_TEXT_BYTES || endsChunked(r.text!))) this.#finish(r);
    else if (contentLength === undefined && r.textBytes >= MAX_TEXT_BYTES) this.#finish(r); // enough of a close-delimited text
  }

  #settle(r: Active): boolean {
    if (this.#req !== r) return false;
    this.#req = undefined;
    this.clock.clearTimeout(r.firstByteTimer);
    this.clock.clearTimeout(r.connectTimer);
    r.signal.removeEventListener("abort", r.onAbort);
    return true;
  }

  #finish(r: Active): void {
    if (!this.#settle(r)) return;
    this.served++;
    const raw = r.text ? Buffer.concat(r.text) : undefined;
    const text = raw && (r.progress.head!.chunked ? dechunk(raw) : raw).toString("utf8");
    this.release(this, r.keepAlive);
    r.resolve({ head: r.progress.head!, ...(text !== undefined ? { text } : {}) });
  }

  #fail(err: unknown): void {
    const r = this.#req;
    if (!r || !this.#settle(r)) return;
    this.socket.destroy();
    r.reject(err);
  }
}

function parseHead(text: string, r: Active): ResponseHead {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? "");
  if (!m) throw new UnsupportedResponseError(`not an HTTP/1.x response: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
  const status = Number(m[2]);
  if (status < 200) throw new UnsupportedResponseError(`an informational ${status} response`);
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const te = headers["transfer-encoding"];
  const cl = headers["content-length"];
  const contentLength = te === undefined && cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
  const connection = (headers.connection ?? "").toLowerCase();
  r.keepAlive = contentLength !== undefined && (m[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive"));
  return { status, headers, contentLength, chunked: te !== undefined && /chunked/i.test(te) };
}

const LAST_CHUNK = Buffer.from("0\r\n\r\n");

/** A chunked body is complete: it ends with the last chunk (no trailers: S3 sends none). */
function endsChunked(parts: Buffer[]): boolean {
  const tail = Buffer.concat(parts.slice(-2));
  return tail.byteLength >= LAST_CHUNK.byteLength && tail.subarray(tail.byteLength - LAST_CHUNK.byteLength).equals(LAST_CHUNK);
}

/** The data of a chunked body (as far as it is well formed). */
function dechunk(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = parseInt(raw.toString("latin1", at, eol).split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    out.push(raw.subarray(eol + 2, Math.min(raw.byteLength, eol + 2 + size)));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** A pool of kept-alive connections to one host, for GETs whose bodies are read into the caller's buffers. */
export class SocketHttpClient {
  readonly #idle: Connection[] = [];
  readonly #open = new Set<Connection>();
  #closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly hostHeader: string,
    private readonly timeouts: SocketHttpTimeouts,
    private readonly clock: Clock,
    private readonly maxIdle = 32,
  ) {}

  /** Connections open now (in use or idle). */
  get openConnections(): number {
    return this.#open.size;
  }

  /**
   * GETs `path` with `headers` (names lower-case; `host` is added). `onHead` chooses the body's
   * sink when the head arrives (a throw fails the request and closes its connection). Resolves
   * when the whole body is in; rejects on a timeout, an abort, a closed or reset connection
   * (`progress` tells how far it got).
   */
  get(path: string, headers: Record<string, string>, onHead: (head: ResponseHead) => BodySink, signal: AbortSignal, progress: GetProgress): Promise<{ head: ResponseHead; text?: string }> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (this.#closed) return Promise.reject(new Error("the S3 store is closed"));
    let conn: Connection | undefined;
    while ((conn = this.#idle.pop()) && !conn.usable) conn.destroy();
    progress.reused = conn !== undefined;
    if (!conn) {
      conn = new Connection(this.host, this.port, this.timeouts, this.clock, (c, keep) => this.#release(c, keep));
      this.#open.add(conn);
    }
    let text = `GET ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    for (const [k, v] of Object.entries(headers)) if (k !== "host") text += `${k}: ${v}\r\n`;
    return conn.request(`${text}\r\n`, onHead, signal, progress);
  }

  #release(c: Connection, keep: boolean): void {
    if (keep && !this.#closed && c.usable && this.#idle.length < this.maxIdle) {
      c.socket.setTimeout(IDLE_MS);
      c.socket.unref();
      if (!this.#idle.includes(c)) this.#idle.push(c);
      return;
    }
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    this.#open.delete(c);
    if (!c.socket.destroyed) c.destroy();
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#open) c.destroy();
    this.#idle.length = 0;
  }
}
