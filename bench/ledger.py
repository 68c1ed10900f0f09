#!/usr/bin/env python3
"""Cost-governance benchmarks (release builds):
  - ledger write and audit append per request (target: ledger < 1 ms)
  - `claude cost monthly` (and `cost daily`, `cost`) over 100,000 ledger
    rows (target: < 100 ms, median wall time of the whole process)
Not a test: figures go in docs/performance.md, "Cost governance".

Usage: bench/ledger.py [--runs N] [--rows N]
"""
import os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 20
ROWS = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 100_000


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "claude-cli", "--bins"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "claude-usage", "--example", "ledger_bench"],
                   cwd=ROOT, check=True)
    rel = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")
    home = tempfile.mkdtemp()
    config = os.path.join(home, ".claude")
    os.makedirs(config)
    out = subprocess.run([os.path.join(rel, "examples", "ledger_bench"), "--writes", "2000",
                          "--seed-rows", str(ROWS), "--seed-dir", config],
                         check=True, capture_output=True, text=True).stdout
    print(out.strip())
    env = {"PATH": os.environ["PATH"], "HOME": home, "CLAUDE_CONFIG_DIR": config}
    claude = os.path.join(rel, "claude")
    results = {}
    for name, args in [("claude cost monthly", ["cost", "monthly"]), ("claude cost daily", ["cost", "daily"]),
                       ("claude cost", ["cost"]), ("claude cost model --breakdown", ["cost", "model", "--breakdown"]),
                       ("claude cost session (reads every row)", ["cost", "session"]),
                       ("claude cost skill (reads every row)", ["cost", "skill"])]:
        walls = []
        for _ in range(RUNS):
            t = time.perf_counter()
            subprocess.run([claude] + args, env=env, check=True, stdout=subprocess.DEVNULL)
            walls.append((time.perf_counter() - t) * 1000)
        results[name] = statistics.median(walls)
        print(f"{name:<40} over {ROWS:,} rows: median {results[name]:.1f} ms ({RUNS} runs)")
    ok = results["claude cost monthly"] < 100
    print(f"target `claude cost monthly` < 100 ms: {'met' if ok else 'MISSED'}")
    write = float(out.split("ledger write: mean ")[1].split(" ")[0])
    print(f"target ledger write < 1 ms: {'met' if write < 1000 else 'MISSED'} (mean {write:.0f} µs)")


if __name__ == "__main__":
    main()
