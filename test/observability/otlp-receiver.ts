/**
 * A local OTLP/HTTP receiver for tests: a node:http server on 127.0.0.1 (a free port) that takes
 * `POST /v1/traces` in OTLP JSON (what @opentelemetry/exporter-trace-otlp-http sends) and keeps
 * the spans, with their attributes flattened. `mode: "hang"` accepts requests and never answers
 * (a collector that is up but stuck).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  endMs: number;
  status: { code?: number; message?: string };
  attributes: Record<string, string | number | boolean>;
  events: string[];
  service: string;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  requests: number;
  close(): Promise<void>;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

const value = (v: AnyValue): string | number | boolean => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue ?? "";
const flat = (kvs: KeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, value(kv.value)]));
const ms = (nanos: string | number) => Number(BigInt(nanos) / 1000n) / 1000;

export async function startOtlpReceiver(mode: "record" | "hang" = "record"): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const r: OtlpReceiver = { url: "", spans, requests: 0, close: async () => undefined };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    r.requests++;
    if (mode === "hang") return; // never answers
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces" || !String(req.headers["content-type"]).includes("json")) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { resourceSpans: { resource: { attributes: KeyValue[] }; scopeSpans: { spans: any[] }[] }[] };
      for (const rs of body.resourceSpans) {
        const service = String(flat(rs.resource.attributes)["service.name"]);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}), name: s.name,
              startMs: ms(s.startTimeUnixNano), endMs: ms(s.endTimeUnixNano), status: s.status ?? {}, attributes: flat(s.attributes),
              events: (s.events ?? []).map((e: { name: string }) => e.name), service,
            });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  r.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  r.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return r;
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 1;
}
