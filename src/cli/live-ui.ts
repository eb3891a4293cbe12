/**
 * `--ui`: a live page of the running job, served on 127.0.0.1 (a free port) with a per-job
 * random token in the URL. The page polls `state` twice a second; each answer is one batch
 * (live-state.ts), built at most every 250 ms however fast events come. The server keeps no
 * events: a {@link LiveFeed} folds each one into bounded counters and a downsampled timeline.
 */
import { secureToken, tokenMatches } from "../backends/remote/channel-token.js";
import { createServer, type ServerResponse } from "node:http";
import type { Job } from "../scheduler/job.js";
import { loadEcharts } from "../report/html.js";
import { renderLiveHtml } from "../report/live-html.js";
import { LiveFeed, type LiveLog } from "../report/live-state.js";

export interface LiveUi {
  url: string;
  /** Waits (at most `graceMs`) for the page to see the job's end, then closes the server. */
  stop(graceMs?: number): Promise<void>;
}

const MAX_LOGS = 500;

/** What the live server needs of a job: its events and clock (a Job, or a replay of an events stream). */
export type LiveJob = Pick<Job, "events" | "context">;

export async function startLiveUi(job: LiveJob, options: { backend: string }): Promise<LiveUi> {
  const token = secureToken();
  const feed = new LiveFeed({ backend: options.backend });
  const logs: LiveLog[] = [];
  let ended = false;
  let servedEnd = false;
  const off = job.events.on((e) => {
    if (e.type === "log") {
      logs.push({ seq: ++feed.seq, line: `${new Date(e.time).toISOString().slice(11, 23)} ${e.attemptId} ${e.stream}: ${e.message}` });
      if (logs.length > MAX_LOGS) logs.splice(0, logs.length - MAX_LOGS);
    } else if (e.type !== "heartbeat") feed.add(e);
    if (e.type === "job-done") ended = true;
  });
  const page = renderLiveHtml(await loadEcharts());
  let cache: { at: number; seq: number; since: number; body: string; ended: boolean } | undefined;
  const state = (since: number) => {
    const now = job.context.clock.now();
    if (cache && cache.since === since && (cache.seq === feed.seq || now - cache.at < 250)) return cache;
    cache = { at: now, seq: feed.seq, since, body: JSON.stringify(feed.state({ since, now, logs })), ended };
    return cache;
  };
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (!tokenMatches(url.searchParams.get("token") ?? undefined, token)) return send(res, 403, "text/plain", "[smelter] wrong or missing token: open the URL the command printed\n");
    if (req.method !== "GET") return send(res, 405, "text/plain", "[smelter] only GET\n");
    if (url.pathname === "/") return send(res, 200, "text/html; charset=utf-8", page);
    if (url.pathname === "/state") {
      const since = Number(url.searchParams.get("since") ?? 0);
      const answer = state(Number.isFinite(since) && since >= 0 ? since : 0);
      if (answer.ended) servedEnd = true;
      return send(res, 200, "application/json", answer.body);
    }
    return send(res, 404, "text/plain", "[smelter] not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    async stop(graceMs = 1500) {
      const clock = job.context.clock;
      for (const until = clock.now() + graceMs; ended && !servedEnd && clock.now() < until; ) await clock.sleep(50);
      off();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
