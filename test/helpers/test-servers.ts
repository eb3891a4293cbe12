/**
 * Starts the servers a test file needs, all or none: when one fails to start, the ones that did
 * start are stopped before the error is thrown (naming which failed and why), so a failed
 * `before` hook never leaves a child process keeping the test process alive.
 */
export interface Stoppable {
  stop(): Promise<void>;
}

type Started<T extends Record<string, () => Promise<Stoppable>>> = { [K in keyof T]: Awaited<ReturnType<T[K]>> };

export async function startServers<T extends Record<string, () => Promise<Stoppable>>>(starters: T): Promise<Started<T> & { stopAll(): Promise<void> }> {
  const names = Object.keys(starters);
  const results = await Promise.allSettled(names.map((name) => starters[name]!()));
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };
  const failures = results.flatMap((r, i) => (r.status === "rejected" ? [{ name: names[i]!, reason: r.reason as unknown }] : []));
  if (failures.length > 0) {
    await stopAll();
    const why = failures.map((f) => `${f.name}: ${f.reason instanceof Error ? f.reason.message : String(f.reason)}`).join("; ");
    throw new Error(`test server${failures.length > 1 ? "s" : ""} failed to start (the others were stopped): ${why}`, { cause: failures[0]!.reason });
  }
  return Object.assign(Object.fromEntries(names.map((name, i) => [name, (results[i] as PromiseFulfilledResult<Stoppable>).value])) as Started<T>, { stopAll });
}
