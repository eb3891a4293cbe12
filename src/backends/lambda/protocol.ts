/**
 * What the lambda backend sends to Smelter's Lambda handler and what the handler answers, as
 * data validated on both sides (one Invoke request, one response: Lambda cannot stream back).
 * Credentials are never part of either: the function reads object storage with its own role.
 */
import { z } from "zod";
import { taskEnvelopeSchema } from "../../job/attempt.js";
import { MAX_REPLY_LOG_BYTES, replyReportShape } from "../remote/reply.js";

export { MAX_REPLY_LOG_BYTES };

/** The protocol version both sides must speak. */
export const PROTOCOL = 2;

/** Lambda's synchronous invocation limit, request and response: 6 MB. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

export const invocationSchema = z.union([
  z.object({
    smelter: z.literal(PROTOCOL),
    /** The attempt, inline; or `envelopeUrl`, when it is too large for the request. */
    envelope: taskEnvelopeSchema.optional(),
    /** Where the manager side wrote the envelope (JSON) when it was over the request limit. */
    envelopeUrl: z.string().min(1).optional(),
    /** Outputs larger than this go to the envelope's `resultUrl` (the response limit minus room for logs). */
    maxInlineOutputBytes: z.number().int().min(1),
  }),
  /** A check that the function exists and runs Smelter's handler (`smelter ... --backend lambda` sends one first). */
  z.object({ smelter: z.literal(PROTOCOL), ping: z.literal(true) }),
]);
export type Invocation = z.infer<typeof invocationSchema>;

export const replySchema = z.union([
  z.object({
    smelter: z.literal(PROTOCOL),
    /** True on the first invocation served by this execution environment (a cold start). */
    cold: z.boolean(),
    requestId: z.string(),
    /** The outcome, the log lines (over {@link MAX_REPLY_LOG_BYTES}: counted, in the function's CloudWatch logs) and the last heartbeat: the shape every remote reply has (src/backends/remote/reply.ts). */
    ...replyReportShape,
  }),
  z.object({ smelter: z.literal(PROTOCOL), pong: z.literal(true), workers: z.array(z.string()), cold: z.boolean() }),
]);
export type Reply = z.infer<typeof replySchema>;
export type TaskReply = Extract<Reply, { outcome: unknown }>;
