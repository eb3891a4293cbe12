#!/usr/bin/env python3
"""Query 2 of the Big Data Benchmark through one of Smelter's peers.

    SELECT SUBSTR(sourceIP, 1, X) AS prefix, SUM(adRevenue) AS adRevenue FROM uservisits GROUP BY 1

    python query2_peers.py --engine polars|datafusion|chdb|lithops|dask|daft|smallpond --input DIR --format csv|parquet \
        --prefix-len 8|10|12 [--runs 5] [--warmup 1] [--workers N] --out result.json

Reads every uservisits file of DIR from local disk (csv: headerless files `part-NNNNN` with no
extension; parquet: `*.parquet`) with the explicit schema, on all cores. Times each run (wall clock,
from starting the query to having the whole result in this process's memory) and writes
--out: {engine, version, format, prefixLen, runs_s, warmup_s, median_s, groups, rows?, result_path,
maxrss_self_kb, maxrss_children_kb, workers, ...} and the result of the last run, one `prefix,sum`
line per group, to <out>.result.csv (sums printed with repr: they round-trip exactly).

If the engine cannot be imported, --out gets {engine, unavailable: reason} and the exit code is 0.
Standard library only, apart from the engine itself (Lithops' Parquet map also uses pyarrow).
See docs/bench-peers.md.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
import traceback
from typing import Callable, Dict, List

COLUMNS = [
    ("sourceIP", "string"),
    ("destURL", "string"),
    ("visitDate", "date"),
    ("adRevenue", "float32"),
    ("userAgent", "string"),
    ("countryCode", "string"),
    ("languageCode", "string"),
    ("searchWord", "string"),
    ("duration", "int32"),
]

Result = Dict[str, float]


def list_files(input_dir: str, fmt: str) -> List[str]:
    names = sorted(os.listdir(input_dir))
    if fmt == "parquet":
        files = [n for n in names if n.endswith(".parquet")]
    else:
        # The benchmark's CSV files: part-00000 ... with no extension (also accept *.csv).
        files = [n for n in names if (n.startswith("part-") and "." not in n) or n.endswith(".csv")]
    paths = [os.path.join(os.path.abspath(input_dir), n) for n in files]
    paths = [p for p in paths if os.path.isfile(p)]
    if not paths:
        raise SystemExit(f"no {fmt} uservisits files in {input_dir} (csv: part-NNNNN, parquet: *.parquet)")
    return paths


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --- Polars ------------------------------------------------------------------------------------
def make_polars(files: List[str], fmt: str, x: int, workers: int):
    import polars as pl

    types = {"string": pl.String, "date": pl.Date, "float32": pl.Float32, "int32": pl.Int32}
    schema = {name: types[t] for name, t in COLUMNS}

    def run() -> Result:
        if fmt == "csv":
            lf = pl.scan_csv(files, has_header=False, schema=schema, quote_char=None, glob=False)
        else:
            lf = pl.scan_parquet(files, glob=False)
        df = (
            lf.group_by(pl.col("sourceIP").str.slice(0, x).alias("prefix"))
            .agg(pl.col("adRevenue").cast(pl.Float64).sum().alias("adRevenue"))
            .collect()
        )
        return df

    def to_dict(df) -> Result:
        return dict(zip(df.get_column("prefix").to_list(), df.get_column("adRevenue").to_list()))

    return pl.__version__, run, to_dict, {"threads": pl.thread_pool_size()}


# --- DataFusion ----------------------------------------------------------------------------------
def make_datafusion(files: List[str], fmt: str, x: int, workers: int):
    import datafusion
    import pyarrow as pa
    from datafusion import SessionConfig, SessionContext

    types = {"string": pa.string(), "date": pa.date32(), "float32": pa.float32(), "int32": pa.int32()}
    schema = pa.schema([(name, types[t]) for name, t in COLUMNS])
    ctx = SessionContext(SessionConfig().with_target_partitions(workers))
    if fmt == "csv":
        ctx.register_csv("uservisits", files, schema=schema, has_header=False, delimiter=",", file_extension="")
    else:
        # register_parquet takes one path: the directory (only *.parquet files are read).
        ctx.register_parquet("uservisits", os.path.dirname(files[0]), file_extension=".parquet")
    sql = (
        # Quoted: DataFusion lower-cases unquoted identifiers.
        f'SELECT substr("sourceIP", 1, {x}) AS prefix, SUM(CAST("adRevenue" AS DOUBLE)) AS "adRevenue" '
        "FROM uservisits GROUP BY 1"
    )

    def run():
        return ctx.sql(sql).to_arrow_table()

    def to_dict(t) -> Result:
        return dict(zip(t.column("prefix").to_pylist(), t.column("adRevenue").to_pylist()))

    return datafusion.__version__, run, to_dict, {"target_partitions": workers}


# --- chDB ----------------------------------------------------------------------------------------
def make_chdb(files: List[str], fmt: str, x: int, workers: int):
    import chdb

    types = {"string": "String", "date": "Date", "float32": "Float32", "int32": "Int32"}
    structure = ", ".join(f"{name} {types[t]}" for name, t in COLUMNS)
    d = os.path.dirname(files[0])
    if fmt == "csv":
        # One glob over the files we listed: ClickHouse's file() takes {a,b,c} alternatives.
        names = ",".join(os.path.basename(f) for f in files)
        source = f"file('{d}/{{{names}}}', 'CSV', '{structure}')"
    else:
        source = f"file('{d}/*.parquet', 'Parquet')"
    sql = (
        f"SELECT substring(sourceIP, 1, {x}) AS prefix, sum(toFloat64(adRevenue)) AS adRevenue "
        f"FROM {source} GROUP BY prefix SETTINGS max_threads = {workers}"
    )

    # One in-memory session for every run (as DuckDB alone keeps its database open): chdb.query()
    # alone sets up a session per call, ~25 ms more a query.
    conn = chdb.connect(":memory:")

    def run():
        return conn.query(sql, "ArrowTable")

    def to_dict(t) -> Result:
        prefixes = [p.decode() if isinstance(p, bytes) else p for p in t.column("prefix").to_pylist()]
        return dict(zip(prefixes, t.column("adRevenue").to_pylist()))

    return chdb.__version__, run, to_dict, {"max_threads": workers}


# --- Lithops -------------------------------------------------------------------------------------
# Module-level functions: Lithops pickles them (cloudpickle) into its worker processes.
def _lithops_map_csv_python(obj, x):
    """One partition of a CSV file (Lithops cut it on newlines): partial sums per prefix."""
    sums: Dict[str, float] = {}
    get = sums.get
    data = obj.data_stream.read()
    for line in data.decode().splitlines():
        if not line:
            continue
        f = line.split(",", 4)
        k = f[0][:x]
        sums[k] = get(k, 0.0) + float(f[3])
    return sums


def _lithops_map_csv_arrow(obj, x):
    """The same map with pyarrow's CSV reader and group-by inside the task."""
    import io

    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    types = {"string": pa.string(), "date": pa.date32(), "float32": pa.float32(), "int32": pa.int32()}
    names = [n for n, _ in COLUMNS]
    data = obj.data_stream.read()
    if not data.strip():
        return {}
    t = csv.read_csv(
        io.BytesIO(data),
        read_options=csv.ReadOptions(column_names=names, use_threads=False),
        parse_options=csv.ParseOptions(delimiter=",", quote_char=False),
        convert_options=csv.ConvertOptions(
            column_types={n: types[t] for n, t in COLUMNS}, include_columns=["sourceIP", "adRevenue"]
        ),
    )
    return _arrow_partial(t, x, pc)


def _arrow_partial(t, x, pc):
    import pyarrow as pa

    t = pa.table({
        "prefix": pc.utf8_slice_codeunits(t.column("sourceIP"), 0, x),
        "adRevenue": pc.cast(t.column("adRevenue"), pa.float64()),
    })
    g = t.group_by("prefix").aggregate([("adRevenue", "sum")])
    return dict(zip(g.column("prefix").to_pylist(), g.column("adRevenue_sum").to_pylist()))


def _lithops_map_parquet(path, x):
    """One Parquet file: read the two needed columns, partial sums per prefix."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["sourceIP", "adRevenue"], use_threads=False)
    return _arrow_partial(t, x, pc)


def _lithops_reduce(results):
    """Lithops' one reducer: merges every map task's partial sums."""
    total: Dict[str, float] = {}
    get = total.get
    for part in results:
        for k, v in part.items():
            total[k] = get(k, 0.0) + v
    return total


def make_lithops(files: List[str], fmt: str, x: int, workers: int, map_impl: str):
    import logging

    import lithops

    logging.getLogger("lithops").setLevel(logging.WARNING)
    config = {
        "lithops": {"backend": "localhost", "storage": "localhost", "log_level": "WARNING"},
        # runtime: this venv's interpreter (the default, "python" on PATH, may lack lithops).
        "localhost": {"runtime": sys.executable, "worker_processes": workers},
    }
    extra: Dict[str, object] = {"worker_processes": workers, "map": map_impl}
    if fmt == "csv":
        total = sum(os.path.getsize(f) for f in files)
        # About two tasks per worker, cut on newlines by Lithops' partitioner (local paths work with
        # the localhost backend); never below 1 MiB a task, and a small file is one task.
        chunk = max(1 << 20, -(-total // (2 * workers)))
        extra["obj_chunk_size"] = chunk
        fn = _lithops_map_csv_arrow if map_impl == "arrow" else _lithops_map_csv_python
        iterdata = [{"obj": f, "x": x} for f in files]
        kwargs = {"obj_chunk_size": chunk, "obj_newline": "\n"}
    else:
        # Parquet is not byte-splittable: one task per file.
        fn = _lithops_map_parquet
        iterdata = [{"path": f, "x": x} for f in files]
        kwargs = {}

    def run():
        t0 = time.time()
        fexec = lithops.FunctionExecutor(config=config)
        futures = fexec.map_reduce(fn, iterdata, _lithops_reduce, **kwargs)
        result = fexec.get_result(futures)
        t1 = time.time()
        futures = futures if isinstance(futures, list) else [futures]
        extra["tasks"] = len(futures) - 1
        # Where the last run's time went (seconds from the executor's creation).
        try:
            maps, red = futures[:-1], futures[-1]
            st = [f.stats for f in maps]
            extra["last_run"] = {
                "wall_s": round(t1 - t0, 3),
                "first_map_start_s": round(min(x["worker_start_tstamp"] for x in st) - t0, 3),
                "last_map_end_s": round(max(x["worker_end_tstamp"] for x in st) - t0, 3),
                "map_func_s_sum": round(sum(x["worker_func_exec_time"] for x in st), 3),
                "map_task_s_sum": round(sum(x["worker_end_tstamp"] - x["worker_start_tstamp"] for x in st), 3),
                "reduce_start_s": round(red.stats["worker_start_tstamp"] - t0, 3),
                "reduce_func_s": round(red.stats["worker_func_exec_time"], 3),
                "reduce_end_s": round(red.stats["worker_end_tstamp"] - t0, 3),
            }
        except (KeyError, AttributeError, TypeError, ValueError):
            pass
        return result

    def to_dict(r) -> Result:
        if isinstance(r, list):  # get_result returns a list when given several futures
            r = r[-1]
        return r

    return lithops.__version__, run, to_dict, extra


# --- Dask ----------------------------------------------------------------------------------------
def make_dask(files: List[str], fmt: str, x: int, workers: int):
    import csv as pycsv

    import dask
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    # A warm local cluster, as a user would run Dask on one machine: one process per core, one thread
    # each (the GIL), on loopback with no dashboard. Started before the timed runs (like Smelter's pool).
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    startup = time.perf_counter() - t0
    names = [n for n, _ in COLUMNS]
    types = {"string": "string", "date": "string", "float32": "float32", "int32": "int32"}
    dtypes = {n: types[t] for n, t in COLUMNS}

    def run():
        if fmt == "csv":
            # Dask's optimizer pushes the two columns used down into pandas' read_csv (usecols).
            df = dd.read_csv(files, header=None, names=names, dtype=dtypes, quoting=pycsv.QUOTE_NONE)
        else:
            df = dd.read_parquet(files)
        df = df.assign(prefix=df["sourceIP"].str.slice(0, x), adRevenue=df["adRevenue"].astype("float64"))
        return df.groupby("prefix")["adRevenue"].sum().compute()

    def to_dict(s) -> Result:
        return {str(k): float(v) for k, v in s.items()}

    extra = {"workers_processes": workers, "threads_per_worker": 1, "cluster_start_s": round(startup, 3), "distributed": __import__("distributed").__version__}
    return dask.__version__, run, to_dict, extra, lambda: (client.close(), cluster.close())


# --- Daft ----------------------------------------------------------------------------------------
def make_daft(files: List[str], fmt: str, x: int, workers: int):
    import daft
    from daft import DataType, col

    types = {"string": DataType.string(), "date": DataType.date(), "float32": DataType.float32(), "int32": DataType.int32()}
    schema = {name: types[t] for name, t in COLUMNS}

    def run():
        # Daft's default runner on one machine (native, multithreaded over all cores).
        if fmt == "csv":
            df = daft.read_csv(files, infer_schema=False, schema=schema, has_headers=False, delimiter=",")
        else:
            df = daft.read_parquet(files)
        df = df.select(col("sourceIP").substr(0, x).alias("prefix"), col("adRevenue").cast(DataType.float64()).alias("adRevenue"))
        return df.groupby("prefix").agg(col("adRevenue").sum()).to_arrow()

    def to_dict(t) -> Result:
        return dict(zip(t.column("prefix").to_pylist(), t.column("adRevenue").to_pylist()))

    return daft.__version__, run, to_dict, {"runner": "native"}


# --- smallpond -----------------------------------------------------------------------------------
def make_smallpond(files: List[str], fmt: str, x: int, workers: int):
    import shutil
    import tempfile

    import ray

    # smallpond starts a local Ray cluster and asks for Ray's dashboard on 0.0.0.0:8008: kept on
    # loopback, without the dashboard (nothing of the computation changes).
    ray_init = ray.init

    def local_init(*args, **kwargs):
        for k in ("dashboard_host", "dashboard_port", "_metrics_export_port"):
            kwargs.pop(k, None)
        kwargs.update(include_dashboard=False, _node_ip_address="127.0.0.1", num_cpus=workers)
        return ray_init(*args, **kwargs)

    ray.init = local_init
    import smallpond

    root = tempfile.mkdtemp(prefix="smelter-peer-smallpond-")
    t0 = time.perf_counter()
    # num_executors=0 (the default): tasks run in the local Ray cluster, on the local file system
    # (3FS is optional). Executors (num_executors > 0) are started as `python worker.py` from PATH.
    sp = smallpond.init(data_root=root, num_executors=0)
    startup = time.perf_counter() - t0
    sql_types = {"string": "VARCHAR", "date": "DATE", "float32": "FLOAT", "int32": "INTEGER"}
    schema = {name: sql_types[t] for name, t in COLUMNS}

    def run():
        # smallpond's way (its README): partial SQL per partition, hash repartition, partial SQL again.
        df = sp.read_csv(files, schema=schema, delim=",") if fmt == "csv" else sp.read_parquet(files)
        df = df.repartition(len(files))
        partial = sp.partial_sql(f"SELECT substr(sourceIP, 1, {x}) AS prefix, SUM(adRevenue::DOUBLE) AS adRevenue FROM {{0}} GROUP BY 1", df)
        shuffled = partial.repartition(workers, hash_by="prefix")
        final = sp.partial_sql("SELECT prefix, SUM(adRevenue) AS adRevenue FROM {0} GROUP BY 1", shuffled)
        return final.to_arrow()

    def to_dict(t) -> Result:
        return dict(zip(t.column("prefix").to_pylist(), t.column("adRevenue").to_pylist()))

    def close():
        sp.shutdown()
        shutil.rmtree(root, ignore_errors=True)

    extra = {"ray": ray.__version__, "duckdb": __import__("duckdb").__version__, "session_start_s": round(startup, 3), "partitions": [len(files), workers]}
    return smallpond.__version__, run, to_dict, extra, close


ENGINES = ("polars", "datafusion", "chdb", "lithops", "dask", "daft", "smallpond")


def main() -> int:
    ap = argparse.ArgumentParser(description="Query 2 (Big Data Benchmark) through a peer engine")
    ap.add_argument("--engine", required=True, choices=ENGINES)
    ap.add_argument("--input", required=True, help="directory of uservisits files")
    ap.add_argument("--format", required=True, choices=("csv", "parquet"))
    ap.add_argument("--prefix-len", type=int, required=True, help="X in SUBSTR(sourceIP, 1, X): 8, 10, 12")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--workers", type=int, default=0, help="threads/processes (default: all cores)")
    ap.add_argument("--lithops-map", choices=("arrow", "python"), default="python",
                    help="Lithops CSV map: a plain Python loop (default) or pyarrow's CSV reader")
    ap.add_argument("--out", required=True, help="JSON summary; the result goes to <out>.result.csv")
    a = ap.parse_args()
    if a.runs < 1 or a.warmup < 0 or a.prefix_len < 1:
        ap.error("--runs >= 1, --warmup >= 0, --prefix-len >= 1")

    workers = a.workers or cores()
    files = list_files(a.input, a.format)
    base = {"engine": a.engine, "format": a.format, "prefixLen": a.prefix_len, "input": os.path.abspath(a.input),
            "files": len(files), "bytes": sum(os.path.getsize(f) for f in files), "workers": workers}

    def write(obj) -> None:
        with open(a.out, "w") as fh:
            json.dump(obj, fh, indent=1)

    makers: Dict[str, Callable] = {
        "polars": make_polars, "datafusion": make_datafusion, "chdb": make_chdb,
        "lithops": lambda f, fmt, x, w: make_lithops(f, fmt, x, w, a.lithops_map),
        "dask": make_dask, "daft": make_daft, "smallpond": make_smallpond,
    }
    try:
        made = makers[a.engine](files, a.format, a.prefix_len, workers)
    except ImportError as err:
        write({**base, "unavailable": f"cannot import {a.engine}: {err}"})
        return 0
    # (version, run, to_dict, extra[, close]): close() stops what the engine started (a cluster).
    version, run, to_dict, extra = made[:4]
    close = made[4] if len(made) > 4 else (lambda: None)
    try:
        return measure(a, base, write, version, run, to_dict, extra)
    finally:
        close()


def measure(a, base, write, version, run, to_dict, extra) -> int:
    """Warm-up runs, then the timed runs; writes --out and the last run's result."""
    warm: List[float] = []
    times: List[float] = []
    out = None
    for i in range(a.warmup + a.runs):
        t0 = time.perf_counter()
        out = run()
        dt = time.perf_counter() - t0
        (warm if i < a.warmup else times).append(dt)
        print(f"{a.engine} {a.format} X={a.prefix_len} run {i + 1}/{a.warmup + a.runs}: {dt:.3f} s"
              + (" (warm-up)" if i < a.warmup else ""), file=sys.stderr)
    result = to_dict(out)

    result_path = os.path.abspath(a.out) + ".result.csv"
    with open(result_path, "w") as fh:
        for k, v in result.items():
            fh.write(f"{k},{v!r}\n")
    write({
        **base,
        "version": version,
        "runs_s": times,
        "warmup_s": warm,
        "median_s": statistics.median(times),
        "groups": len(result),
        "result_path": result_path,
        # ru_maxrss is KiB on Linux. Self: this process (the whole engine for polars/datafusion/chdb;
        # Lithops' driver). Children: the largest reaped child process (Lithops' workers, when reaped).
        "maxrss_self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "maxrss_children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "python": sys.version.split()[0],
        **extra,
    })
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
