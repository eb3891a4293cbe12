"""A local ECS/Fargate endpoint for tests (test tooling): moto's ECS API server plus an agent, in
one Python process, that runs a real local process for every task RunTask starts.

moto alone runs nothing (its tasks start RUNNING and step toward STOPPED on each DescribeTasks,
exit code 0, no stopCode). This agent switches moto's ECS task state manager to manual
transitions and drives each task itself:
  PROVISIONING -> PENDING -> RUNNING (the process started) -> STOPPING -> DEPROVISIONING -> STOPPED
with the container's real exit code (128+N when killed by signal N, as Docker reports), stopCode
EssentialContainerExited / UserInitiated (StopTask: SIGTERM, then SIGKILL after the container's
stopTimeout) / SpotInterruption (the control endpoint) / TaskFailedToStart, and stoppedReason.
The process runs the first container's command (containerOverrides' command, else the task
definition's) with its environment (the task definition's, then the overrides'); the image is
not used.

It patches moto internals (EC2ContainerServiceBackend.run_task/stop_task, the response's
run_task, Task/Container attributes), so it works with the moto version pinned in
scripts/install-moto.sh only.

A test-only control endpoint (plain HTTP, JSON) on its own loopback port:
  GET  /network                  -> {"subnets": [...], "securityGroups": [...]}  (moto's defaults)
  POST /interrupt {"task": arn}  -> a Spot interruption of that task
  POST /oom {"task": arn}        -> the container is killed for its memory (SIGKILL, exit 137,
                                    reason "OutOfMemoryError: Container killed due to memory usage")
  POST /capacity {"provider": "FARGATE_SPOT", "available": false}
                                 -> RunTask on that provider answers a capacity failure
  POST /throttle {"count": n}    -> the next n RunTask calls get ThrottlingException
  POST /hold {"hold": true}      -> new tasks stay PROVISIONING until released (a task that never starts)
  GET  /tasks                    -> [{"taskArn", "pid", "lastStatus", "exitCode"}]

Usage: python moto_ecs_agent.py  -> prints one line `READY {"ecsPort": .., "controlPort": ..}`.
Stops (killing every task's process group) on SIGTERM/SIGINT or when stdin closes.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ecs import models as ecs_models
from moto.ecs import responses as ecs_responses
from moto.moto_api import state_manager
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

REGION = os.environ.get("AWS_REGION", "us-east-1")
PROVISIONING_SECONDS = float(os.environ.get("AGENT_PROVISIONING_SECONDS", "0.2"))
PENDING_SECONDS = float(os.environ.get("AGENT_PENDING_SECONDS", "0.2"))
STEP_SECONDS = float(os.environ.get("AGENT_STEP_SECONDS", "0.1"))
DEFAULT_STOP_TIMEOUT = float(os.environ.get("AGENT_STOP_TIMEOUT_SECONDS", "30"))
CAPACITY_UNAVAILABLE = "Capacity is unavailable at this time. Please try again later or in a different availability zone"
SPOT_REASON = "Your Spot Task was interrupted."
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"

lock = threading.RLock()
control = {"unavailable": set(), "throttle": 0, "hold": False}
tasks = {}  # task arn -> TaskRun


def now():
    return datetime.now(timezone.utc)


def log(message):
    print(f"[moto-ecs-agent] {message}", file=sys.stderr, flush=True)


class ThrottlingException(ServiceException):
    def __init__(self):
        super().__init__("ThrottlingException", "Rate exceeded")


class TaskRun:
    """The agent's side of one task: its process and what stopped it."""

    def __init__(self, task, task_definition):
        self.task = task
        self.container_def = task_definition.container_definitions[0]
        self.process = None
        self.stop_requested = threading.Event()
        self.released = threading.Event()
        self.kill_timer = None

    def command_and_env(self):
        name = self.container_def.get("name")
        overrides = next(
            (o for o in (self.task.overrides or {}).get("containerOverrides", []) if o.get("name") == name),
            {},
        )
        command = overrides.get("command") or self.container_def.get("command")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "AWS_REGION": REGION}
        for item in (self.container_def.get("environment") or []) + (overrides.get("environment") or []):
            env[item["name"]] = item.get("value", "")
        env["ECS_TASK_ARN"] = self.task.task_arn
        return command, env

    def request_stop(self, stop_code, reason):
        with lock:
            if self.stop_requested.is_set():
                return
            t = self.task
            t.stop_code = stop_code
            t.stopped_reason = reason
            t.desired_status = "STOPPED"
            t.stopping_at = now()
            self.stop_requested.set()
            self.released.set()
            if self.process is not None and self.process.poll() is None:
                signal_group(self.process, signal.SIGTERM)
                grace = float(self.container_def.get("stopTimeout") or DEFAULT_STOP_TIMEOUT)
                self.kill_timer = threading.Timer(grace, signal_group, (self.process, signal.SIGKILL))
                self.kill_timer.daemon = True
                self.kill_timer.start()

    def oom_kill(self):
        """What Fargate does when the container passes its memory limit: SIGKILL, and the container's reason says so."""
        with lock:
            if self.process is None or self.process.poll() is not None:
                return False
            self.task.containers[0].reason = OOM_REASON
            signal_group(self.process, signal.SIGKILL)
            return True

    def run(self):
        t = self.task
        container = t.containers[0]
        try:
            time.sleep(PROVISIONING_SECONDS)
            if control["hold"]:
                self.released.wait()
            if not self.stop_requested.is_set():
                t.status = "PENDING"
                t.pull_started_at = now()
                time.sleep(PENDING_SECONDS)
                t.pull_stopped_at = now()
            with lock:
                if not self.stop_requested.is_set():
                    self.start_process(container)
            if self.process is not None:
                code = self.process.wait()
                if self.kill_timer is not None:
                    self.kill_timer.cancel()
                t.execution_stopped_at = now()
                container.exitCode = code if code >= 0 else 128 - code
                container.last_status = "STOPPED"
                with lock:
                    if not getattr(t, "stop_code", None):
                        t.stop_code = "EssentialContainerExited"
                        t.stopped_reason = "Essential container in task exited"
                        t.desired_status = "STOPPED"
                        t.stopping_at = now()
            else:
                container.exitCode = None
                container.last_status = "STOPPED"
        except Exception as err:  # the task must end STOPPED whatever happens
            log(f"task {t.task_arn}: {err!r}")
            t.stop_code = getattr(t, "stop_code", None) or "TaskFailedToStart"
            t.stopped_reason = getattr(t, "stopped_reason", None) or f"agent error: {err}"
        for status in ("DEACTIVATING", "STOPPING", "DEPROVISIONING"):
            t.status = status
            time.sleep(STEP_SECONDS / 3)
        t.stopped_at = now()
        t.desired_status = "STOPPED"
        t.status = "STOPPED"

    def start_process(self, container):
        t = self.task
        command, env = self.command_and_env()
        if not command:
            t.stop_code = "TaskFailedToStart"
            t.stopped_reason = "CannotStartContainerError: the container has no command (the agent runs the command, not the image)"
            container.reason = t.stopped_reason
            return
        try:
            self.process = subprocess.Popen(command, env=env, start_new_session=True, stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr)
        except OSError as err:
            t.stop_code = "TaskFailedToStart"
            t.stopped_reason = f"CannotStartContainerError: {err}"
            container.reason = t.stopped_reason
            return
        t.status = "RUNNING"
        t.started_at = now()
        t.connectivity = "CONNECTED"
        t.connectivity_at = t.started_at
        container.last_status = "RUNNING"
        container.runtime_id = f"pid-{self.process.pid}"


def signal_group(process, sig):
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- moto patches -------------------------------------------------------------------------------

original_run_task = ecs_models.EC2ContainerServiceBackend.run_task
original_response_run_task = ecs_responses.EC2ContainerServiceResponse.run_task


def run_task(self, cluster_str, task_definition_str, *args, **kwargs):
    started = original_run_task(self, cluster_str, task_definition_str, *args, **kwargs)
    task_definition = self.describe_task_definition(task_definition_str)
    for task in started:
        task.stop_code = None
        task.stopped_reason = None
        task.status = "PROVISIONING"
        task.created_at = now()
        run = TaskRun(task, task_definition)
        with lock:
            tasks[task.task_arn] = run
        threading.Thread(target=run.run, daemon=True).start()
    return started


def stop_task(self, cluster_str, task_str, reason):
    self._get_cluster(cluster_str)
    run = find_run(task_str)
    if run is None:
        raise ecs_models.InvalidParameterException("The referenced task was not found.")
    run.request_stop("UserInitiated", reason or "Task stopped by user")
    return run.task


def response_run_task(self):
    with lock:
        if control["throttle"] > 0:
            control["throttle"] -= 1
            raise ThrottlingException()
    strategy = self._get_param("capacityProviderStrategy") or []
    provider = strategy[0]["capacityProvider"] if strategy else self._get_param("launchType") or "FARGATE"
    if provider in control["unavailable"]:
        count = self._get_int_param("count", 1)
        failures = [{"arn": f"arn:aws:ecs:{REGION}:{DEFAULT_ACCOUNT_ID}:capacity-provider/{provider}", "reason": CAPACITY_UNAVAILABLE}] * count
        return ActionResult({"tasks": [], "failures": failures})
    return original_response_run_task(self)


def find_run(task_str):
    task_id = task_str.split("/")[-1]
    with lock:
        return next((r for arn, r in tasks.items() if arn == task_str or arn.endswith("/" + task_id)), None)


ecs_models.EC2ContainerServiceBackend.run_task = run_task
ecs_models.EC2ContainerServiceBackend.stop_task = stop_task
ecs_responses.EC2ContainerServiceResponse.run_task = response_run_task
# The agent moves tasks; DescribeTasks must not.
state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**12})


# --- the control endpoint -----------------------------------------------------------------------


def default_network():
    ec2 = ec2_backends[DEFAULT_ACCOUNT_ID][REGION]
    vpc = ec2.get_default_vpc()
    subnets = [s.id for s in ec2.describe_subnets(filters={"vpc-id": [vpc.id]})]
    groups = [g.id for g in ec2.describe_security_groups(filters={"vpc-id": [vpc.id], "group-name": ["default"]})]
    return {"subnets": subnets, "securityGroups": groups}


class Control(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/network":
            return self.reply(200, default_network())
        if self.path == "/tasks":
            with lock:
                listing = [
                    {
                        "taskArn": arn,
                        "pid": r.process.pid if r.process else None,
                        "lastStatus": r.task.status,
                        "exitCode": r.task.containers[0].exitCode,
                    }
                    for arn, r in tasks.items()
                ]
            return self.reply(200, listing)
        self.reply(404, {"error": f"unknown path {self.path}"})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/interrupt":
            run = find_run(body.get("task", ""))
            if run is None:
                return self.reply(404, {"error": "no such task"})
            run.request_stop("SpotInterruption", SPOT_REASON)
            return self.reply(200, {"ok": True})
        if self.path == "/oom":
            run = find_run(body.get("task", ""))
            if run is None or not run.oom_kill():
                return self.reply(404, {"error": "no such running task"})
            return self.reply(200, {"ok": True})
        if self.path == "/capacity":
            with lock:
                (control["unavailable"].discard if body.get("available", True) else control["unavailable"].add)(body["provider"])
            return self.reply(200, {"ok": True})
        if self.path == "/throttle":
            with lock:
                control["throttle"] = int(body.get("count", 0))
            return self.reply(200, {"ok": True})
        if self.path == "/hold":
            with lock:
                control["hold"] = bool(body.get("hold"))
                if not control["hold"]:
                    for r in tasks.values():
                        r.released.set()
            return self.reply(200, {"ok": True})
        self.reply(404, {"error": f"unknown path {self.path}"})


def shutdown(*_):
    with lock:
        for r in tasks.values():
            if r.process is not None and r.process.poll() is None:
                signal_group(r.process, signal.SIGKILL)
    os._exit(0)


def main():
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, ecs_port = server.get_host_and_port()
    control_server = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    threading.Thread(target=control_server.serve_forever, daemon=True).start()
    print("READY " + json.dumps({"ecsPort": ecs_port, "controlPort": control_server.server_address[1]}), flush=True)
    # The test process holds our stdin: when it goes away, so do we (and every task's process).
    sys.stdin.read()
    shutdown()


if __name__ == "__main__":
    main()
