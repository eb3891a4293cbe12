/**
 * `smelter s3 serve`: the embedded S3-compatible server on 127.0.0.1, until Ctrl-C, with a
 * random key pair of its own per run (every request's signature is checked against it).
 * The `export` lines (stdout) tell a shell how to point the AWS SDK, the CLI and Smelter at it.
 */
import type { Command } from "commander";
import { systemContext } from "../job/runtime-context.js";
import { z } from "zod";
import { parseFlags } from "./common.js";

const serveFlagsSchema = z.object({
  dir: z.string().min(1).default(".smelter/s3"),
  port: z.coerce.number({ message: "--port must be a number" }).int("--port must be a whole number").min(0, "--port must be 0-65535").max(65535, "--port must be 0-65535").default(4568),
  bucket: z.array(z.string().min(1)).default(["smelter"]),
  verbose: z.boolean().default(false),
});

export function register(program: Command): void {
  const s3 = program.command("s3").description("the embedded S3-compatible server");
  s3.command("serve")
    .description("serve S3 on 127.0.0.1 from a local directory until Ctrl-C (prints the env vars to export)")
    .option("--dir <dir>", "where objects are kept", ".smelter/s3")
    .option("--port <port>", "port to listen on (0 picks a free one)", "4568")
    .option("--bucket <name...>", "buckets to create (repeatable)")
    .option("-v, --verbose", "log every request")
    .action(async (raw: unknown) => {
      const flags = parseFlags(serveFlagsSchema, raw);
      await serve(flags);
    });
}

async function serve(flags: z.output<typeof serveFlagsSchema>): Promise<void> {
  const { startS3Server } = await import("../storage/server.js");
  // A key pair of its own for every run: requests are signed with it (checked), so only those given the printed values get in.
  const ids = systemContext().ids;
  const keys = { accessKeyId: `SMELTER${ids.hex(16).toUpperCase()}`, secretAccessKey: ids.hex(40) };
  const server = await startS3Server({ dir: flags.dir, port: flags.port, buckets: flags.bucket, verbose: flags.verbose, ...keys });
  process.stderr.write(`[smelter] S3 server on ${server.endpoint} (loopback only), data in ${server.dir}, buckets: ${server.buckets.join(", ")}\n`);
  process.stderr.write(`[smelter] this run's key pair is new and random: export the lines below in each shell that uses the server\n`);
  process.stderr.write(`[smelter] s3rver lacks AbortMultipartUpload, ListParts and ListMultipartUploads (see docs/storage.md)\n`);
  for (const [k, v] of Object.entries(server.env)) process.stdout.write(`export ${k}=${v}\n`);
  process.stderr.write(`[smelter] try: smelter ... s3://${server.buckets[0] ?? "smelter"}/path   (Ctrl-C stops the server)\n`);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
  process.stderr.write(`[smelter] stopping the S3 server\n`);
  await server.stop();
}
