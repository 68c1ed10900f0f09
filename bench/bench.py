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


def measure(cmd, env, runs=RUNS):
    """Median wall time (ms) and the largest peak RSS (MiB) of `runs` runs.
    os.wait4 gives each child's own rusage, so earlier children (cargo) do
    not leak into the figure."""
    walls, peak = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        walls.append((time.perf_counter() - t) * 1000)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed with exit code {p.returncode}")
        peak = max(peak, usage.ru_maxrss)
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

    print(f"{'command':<62} {'median wall':>12} {'peak RSS':>10}")
    for name, wall, rss in rows:
        print(f"{name:<62} {wall:>9.1f} ms {rss:>6.1f} MiB")
    print(f"HTTP requests per one-shot call: {count}")
    print(f"event-stream throughput, end to end (server encoding included): {throughput:,.0f} events/s")
    print(f"release binary size: {os.path.getsize(claude) / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
