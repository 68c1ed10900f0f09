#!/usr/bin/env python3
"""Startup and one-shot benchmarks for the release `claude` binary.

Prints wall time (median of N runs) and peak RSS for:
  - claude --version
  - claude config list
  - claude --provider bedrock --model haiku -p hello, against the loopback
    Bedrock server (and checks that exactly one HTTP request was made)
and the release binary's size. Not a test: figures go in docs/performance.md.

Usage: bench/bench.py [--runs N]   (builds release binaries first)
"""
import json, os, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 30


def build():
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "claude-cli",
                    "-p", "claude-test-support", "--bins"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release")


def peak_rss_kib(cmd, env):
    """Peak RSS of one run, measured by /usr/bin/time: a child forked from
    Python would count Python's own pages until it execs."""
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name] + cmd, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return int(out.read().strip().splitlines()[-1])


def measure(cmd, env, runs=RUNS):
    """Median wall time (ms) of `runs` runs and the largest peak RSS (MiB) of five."""
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append((time.perf_counter() - t) * 1000)
        if p.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed with exit code {p.returncode}")
    peak = max(peak_rss_kib(cmd, env) for _ in range(min(runs, 5)))
    return statistics.median(walls), peak / 1024


def main():
    rel = build()
    claude = os.path.join(rel, "claude")
    home = tempfile.mkdtemp()
    env = {"PATH": os.environ["PATH"], "HOME": home, "CLAUDE_CONFIG_DIR": os.path.join(home, ".claude"),
           "AWS_EC2_METADATA_DISABLED": "true"}
    rows = []
    for name, args in [("claude --version", ["--version"]), ("claude config list", ["config", "list"])]:
        wall, rss = measure([claude] + args, env)
        rows.append((name, wall, rss))

    server = subprocess.Popen([os.path.join(rel, "loopback-bedrock")], stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    try:
        call_env = dict(env, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                        AWS_REGION="us-east-1", AWS_ENDPOINT_URL=url)
        cmd = [claude, "--provider", "bedrock", "--model", "haiku", "-p", "hello"]
        subprocess.run(cmd, env=call_env, check=True, stdout=subprocess.DEVNULL)
        # Model invocations only: the audit log's one STS GetCallerIdentity per run is not one.
        seen = json.load(urllib.request.urlopen(url + "/__admin/requests"))["requests"]
        count = sum(1 for r in seen if "/invoke" in r["path"])
        if count != 1:
            sys.exit(f"expected exactly one HTTP request for one call, saw {count}")
        wall, rss = measure(cmd, call_env)
        rows.append(("claude --provider bedrock --model haiku -p hello (loopback)", wall, rss))
    finally:
        server.kill()

    words = 200_000
    server = subprocess.Popen([os.path.join(rel, "loopback-bedrock"), "--long-reply", str(words)],
                              stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    try:
        call_env = dict(env, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                        AWS_REGION="us-east-1", AWS_ENDPOINT_URL=url)
        cmd = [claude, "--provider", "bedrock", "--model", "haiku", "-p", "hello"]
        wall, rss = measure(cmd, call_env, runs=5)
        events = words // 2 + 5
        rows.append((f"streamed reply of {events} events (loopback)", wall, rss))
        throughput = events / (wall / 1000)
    finally:
        server.kill()

    turns = 20
    server = subprocess.Popen([os.path.join(rel, "loopback-bedrock"), "--tool-turns", str(turns)],
                              stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    try:
        call_env = dict(env, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                        AWS_REGION="us-east-1", AWS_ENDPOINT_URL=url)
        cmd = [claude, "--provider", "bedrock", "--model", "haiku", "-p", "hello"]
        wall, rss = measure(cmd, call_env, runs=5)
        rows.append((f"{turns} tool-loop turns (TaskList) then a reply (loopback)", wall, rss))
        one_shot = next(w for n, w, _ in rows if n.startswith("claude --provider bedrock"))
        per_call = (wall - one_shot) / turns
    finally:
        server.kill()

    print(f"{'command':<62} {'median wall':>12} {'peak RSS':>10}")
    for name, wall, rss in rows:
        print(f"{name:<62} {wall:>9.1f} ms {rss:>6.1f} MiB")
    print(f"HTTP requests per one-shot call: {count}")
    print(f"tool loop, per tool call (a model round trip on loopback plus the tool): {per_call:.2f} ms")
    print(f"event-stream throughput, end to end (server encoding included): {throughput:,.0f} events/s")
    print(f"release binary size: {os.path.getsize(claude) / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
