/**
 * The simulator's models as plain data, each parameter with its source. Published figures come
 * from ../shared/CLOUD-LAB.md and ../shared/BRIEF.md (AWS documentation and the papers cited
 * there); "measured" means measured on our 2-core machine (docs/simulation.md says how);
 * "assumed" means no published figure was at hand: change it with an option when you know better.
 * docs/simulation.md lists every one of them.
 */

/** A duration distribution: log-normal by its median and 99th percentile, ms. */
export interface LatencyDist {
  medianMs: number;
  p99Ms: number;
}

export type PlatformName = "lambda" | "fargate" | "kubernetes" | "processes";

export interface PlatformModel {
  name: PlatformName;
  /** Start of a new worker (environment, container, pod, process) before the function runs. */
  coldStart: LatencyDist;
  /** Start on a warm worker. */
  warmStart: LatencyDist;
  /** Attempts running at once, at most (account concurrency, cluster size). */
  concurrencyLimit: number;
  /** New workers per `scaleWindowMs`, at most (Lambda's scaling rate); Infinity when unbounded. */
  scalePerWindow: number;
  scaleWindowMs: number;
  /** A refused launch asks to come back after this long. */
  retryAfterMs: number;
  /** CPU of one worker, in cores of this machine (Lambda: memory / 1769 MB, at most 6). */
  cpus: (memoryMb: number) => number;
  /** Per-worker store bandwidth, bytes/s (download; upload is `uploadFactor` of it). */
  workerBandwidth: (memoryMb: number) => number;
  uploadFactor: number;
  /** Chance that an attempt fails for reasons of the platform (crash, lost container). */
  failureRate: number;
  /** Spot-style preemptions per worker-hour (0: none). */
  preemptionsPerHour: number;
  /** Whether a kill is confirmed (`stopped`) or the attempt runs to its end and is billed (`abandoned`: Lambda). */
  killAbandons: boolean;
  /** Price of one attempt: per GB-second of memory, per vCPU-second, per invocation, dollars. */
  price: { perGbSecond: number; perVcpuSecond: number; perInvocation: number; minimumBilledMs: number };
}

export interface StoreModel {
  /** First byte of a GET. */
  firstByte: LatencyDist;
  /** First byte of a PUT (whole small object). */
  putLatency: LatencyDist;
  /** Chance a GET stalls, and how long a stalled GET takes before its bytes come. */
  stallRate: number;
  stallMs: number;
  /** Bytes/s all workers together can read (S3: ~90-100 GB/s for 1,000 functions). */
  aggregateBandwidth: number;
  /** Requests/s one key prefix takes before answering 503 SlowDown. */
  getRatePerPrefix: number;
  putRatePerPrefix: number;
  /** The SDK's retry of a 503: base delay, ms (full jitter, doubling; Smelter's S3 store makes 5 attempts). */
  slowDownBaseMs: number;
  /** Bytes of one ranged GET, and GETs in flight per reader (the ranged reader's defaults). */
  partBytes: number;
  readConcurrency: number;
  price: { perGet: number; perPut: number };
}

const MB = 1e6;
const MIB = 1024 * 1024;

/** AWS Lambda (CLOUD-LAB.md, BRIEF.md). */
export const lambdaModel: PlatformModel = {
  name: "lambda",
  // Node hello world 120-140 ms (CLOUD-LAB); + loading DuckDB's native module (measured here, see docs): ~350 ms median.
  coldStart: { medianMs: 450, p99Ms: 1500 },
  // A warm invoke (RIE measured ~32 ms; the service adds its front end): assumed.
  warmStart: { medianMs: 25, p99Ms: 120 },
  concurrencyLimit: 1000, // account default (CLOUD-LAB)
  scalePerWindow: 1000, // 1,000 new environments per 10 s per function (CLOUD-LAB)
  scaleWindowMs: 10_000,
  retryAfterMs: 1000, // assumed: the SDK's backoff after a 429
  cpus: (mem) => Math.min(6, mem / 1769), // 1 vCPU at 1,769 MB, 2 up to 2,048 MB... 6 at 10 GB (AWS docs)
  // ~100 MB/s per function (BRIEF, BENCH); CLOUD-LAB quotes a plateau of ~1,400 Mbps at >= 2,048 MB: we keep the lower figure, scaled down below 2,048 MB (assumed).
  workerBandwidth: (mem) => 100 * MB * Math.min(1, mem / 2048),
  uploadFactor: 800 / 1400, // upload ~800 Mbps vs download ~1,400 Mbps (CLOUD-LAB)
  failureRate: 0.001, // assumed
  preemptionsPerHour: 0,
  killAbandons: true, // an invocation cannot be stopped: it runs to its end and is billed
  price: { perGbSecond: 0.0000166667, perVcpuSecond: 0, perInvocation: 0.2 / 1e6, minimumBilledMs: 1 }, // x86 (CLOUD-LAB)
};

/** AWS Fargate (Spot when preemptions are on). */
export const fargateModel: PlatformModel = {
  name: "fargate",
  coldStart: { medianMs: 35_000, p99Ms: 90_000 }, // assumed: image pull + ENI, commonly reported 30-60 s
  warmStart: { medianMs: 35_000, p99Ms: 90_000 }, // a task is a fresh container every time
  concurrencyLimit: 1000, // assumed: a raised vCPU quota
  scalePerWindow: 500, // assumed: RunTask launch rate with retries
  scaleWindowMs: 60_000,
  retryAfterMs: 5000,
  cpus: (mem) => Math.max(0.25, Math.min(16, mem / 2048)), // 2 GB per vCPU, assumed shape
  workerBandwidth: () => 100 * MB, // assumed, as Lambda
  uploadFactor: 0.6,
  failureRate: 0.001,
  preemptionsPerHour: 0, // Spot: AWS publishes no rate (CLOUD-LAB); set --preemptions-per-hour
  killAbandons: false,
  // us-east-1 on-demand: $0.04048 per vCPU-hour, $0.004445 per GB-hour; billed per second, 1 minute minimum (AWS pricing page).
  price: { perGbSecond: 0.004445 / 3600, perVcpuSecond: 0.04048 / 3600, perInvocation: 0, minimumBilledMs: 60_000 },
};

/** Kubernetes on nodes already running (pods on warm nodes). */
export const kubernetesModel: PlatformModel = {
  name: "kubernetes",
  coldStart: { medianMs: 2000, p99Ms: 8000 }, // assumed: pod scheduling + container start with a cached image
  warmStart: { medianMs: 2000, p99Ms: 8000 },
  concurrencyLimit: 1000,
  scalePerWindow: 200, // assumed: Job controller pod creation rate
  scaleWindowMs: 1000,
  retryAfterMs: 1000,
  cpus: (mem) => Math.max(0.25, mem / 2048),
  workerBandwidth: () => 100 * MB,
  uploadFactor: 0.6,
  failureRate: 0.001,
  preemptionsPerHour: 0,
  killAbandons: false,
  // assumed: node cost spread over pods, m5-class on demand ~$0.048 per vCPU-hour.
  price: { perGbSecond: 0, perVcpuSecond: 0.048 / 3600, perInvocation: 0, minimumBilledMs: 1000 },
};

/** Local processes on this machine (2 cores), reading the embedded S3 on loopback. */
export const processesModel: PlatformModel = {
  name: "processes",
  coldStart: { medianMs: 300, p99Ms: 600 }, // measured order: a Node process that loads DuckDB
  warmStart: { medianMs: 2, p99Ms: 10 },
  concurrencyLimit: 64,
  scalePerWindow: Infinity,
  scaleWindowMs: 1000,
  retryAfterMs: 100,
  cpus: () => 1, // each process gets a core when workers <= cores; the backend shares the machine's cores (below)
  workerBandwidth: () => 400 * MB, // assumed loopback S3
  uploadFactor: 1,
  failureRate: 0,
  preemptionsPerHour: 0,
  killAbandons: false,
  price: { perGbSecond: 0, perVcpuSecond: 0, perInvocation: 0, minimumBilledMs: 0 },
};

export const platformModels: Record<PlatformName, PlatformModel> = { lambda: lambdaModel, fargate: fargateModel, kubernetes: kubernetesModel, processes: processesModel };

/** Cores of the machine the processes backend shares. */
export const LOCAL_CORES = 2;

/** Amazon S3 (BRIEF.md; S3 documentation for rates and prices). */
export const s3Model: StoreModel = {
  firstByte: { medianMs: 14, p99Ms: 80 }, // 256 KB GET median ~14 ms (BRIEF); p99 assumed
  putLatency: { medianMs: 30, p99Ms: 150 }, // assumed
  stallRate: 0.0001, // Starling: p99.99 read latency over 1 s (BRIEF)
  stallMs: 1500,
  aggregateBandwidth: 95e9, // 1,000 functions reach ~90-100 GB/s (BRIEF)
  getRatePerPrefix: 5500, // 5,500 GET/HEAD per second per prefix (S3 docs)
  putRatePerPrefix: 3500, // 3,500 PUT/POST/DELETE per second per prefix (S3 docs)
  slowDownBaseMs: 500, // AWS SDK v3 standard mode: throttling errors back off from 500 ms (x2 each retry, full jitter, cap 20 s)
  partBytes: 8 * MIB, // assumed ranged GET size
  readConcurrency: 8, // RangedReader default: 8 GETs in flight
  price: { perGet: 0.0004 / 1000, perPut: 0.005 / 1000 }, // S3 Standard us-east-1
};

/** The embedded S3 on loopback (processes backend). */
export const localS3Model: StoreModel = {
  ...s3Model,
  firstByte: { medianMs: 2, p99Ms: 10 },
  putLatency: { medianMs: 3, p99Ms: 15 },
  stallRate: 0,
  aggregateBandwidth: 800 * MB,
  getRatePerPrefix: Infinity,
  putRatePerPrefix: Infinity,
  price: { perGet: 0, perPut: 0 },
};
