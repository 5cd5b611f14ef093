#!/usr/bin/env python3
"""The default pipeline with --near-dedup on four engines, side by side, on one corpus:

  local                 this process (the default engine)
  ballista-standalone   a Ballista scheduler and executor inside the run
  ballista, 1 executor  `prepcost cluster scheduler` + one `prepcost cluster executor` process
  ballista, 2 executors the same with two executor processes

Runs are interleaved engine by engine, REPEAT times; each row gives the median and min-max of
the run's wall time (the whole process), of the MinHash stage's wall time, the peak memory the
client's pool accounted during the MinHash stage, and the client's peak RSS. Every run must
keep the same number of rows as the local one. Prints Markdown for benches/README.md.

usage: benches/cluster.py BINARY CORPUS [REPEAT]
"""
import json, os, socket, statistics, subprocess, sys, tempfile, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, proc):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"a cluster node exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listened on {port}")


def start_cluster(binary, executors):
    """A scheduler and `executors` executors (each running 2 tasks at once); the nodes and
    the scheduler's address."""
    port = free_port()
    nodes = [subprocess.Popen([binary, "cluster", "scheduler", "--bind", f"127.0.0.1:{port}"])]
    wait_for(port, nodes[0])
    for _ in range(executors):
        flight, grpc = free_port(), free_port()
        node = subprocess.Popen([binary, "cluster", "executor", "--scheduler", f"127.0.0.1:{port}",
                                 "--bind", "127.0.0.1", "--external-host", "127.0.0.1",
                                 "--port", str(flight), "--grpc-port", str(grpc), "--concurrency", "2"])
        nodes.append(node)
        wait_for(flight, node)
    return nodes, f"df://127.0.0.1:{port}"


def run(binary, corpus, engine_args):
    """One run: (wall s, minhash stage wall s, minhash pool peak bytes, client peak RSS bytes, rows out)."""
    cmd = [binary, "profile", corpus, "--near-dedup", "--format", "json", "--quiet", *engine_args]
    with tempfile.TemporaryFile() as out:
        started = time.time()
        proc = subprocess.Popen(cmd, stdout=out)
        peak = 0
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]) * 1024)
            except OSError:
                pass
            time.sleep(0.05)
        wall = time.time() - started
        if proc.returncode != 0:
            sys.exit(f"{cmd} failed with {proc.returncode}")
        out.seek(0)
        report = json.load(out)
    minhash = report["stages"][-1]
    return wall, minhash["wall_seconds"], minhash["peak_memory_bytes"], peak, report["stages"][-1]["rows_out"]


def cell(values, fmt):
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    engines = [("local", 0), ("ballista-standalone", 0), ("ballista, 1 executor", 1), ("ballista, 2 executors", 2)]
    results = {name: [] for name, _ in engines}
    for _ in range(repeat):
        for name, executors in engines:
            nodes = []
            if executors:
                nodes, address = start_cluster(binary, executors)
                args = ["--engine", "ballista", "--scheduler", address]
            elif name == "local":
                args = []
            else:
                args = ["--engine", "ballista-standalone"]
            try:
                results[name].append(run(binary, corpus, args))
            finally:
                for node in nodes:
                    node.kill()
                    node.wait()
    rows = {r[4] for runs in results.values() for r in runs}
    assert len(rows) == 1, f"engines disagree on the rows kept: {rows}"
    print(f"corpus: {corpus}; {repeat} runs each, median (min–max); rows kept by every run: {rows.pop():,}\n")
    print("| engine | wall s | minhash stage s | client pool peak in minhash | client peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: |")
    mib = lambda b: f"{b / 2**20:,.0f} MiB"
    sec = lambda s: f"{s:.2f}"
    for name, runs in results.items():
        cols = list(zip(*runs))
        print(f"| {name} | {cell(cols[0], sec)} | {cell(cols[1], sec)} | {cell(cols[2], mib)} | {cell(cols[3], mib)} |")


if __name__ == "__main__":
    main()
