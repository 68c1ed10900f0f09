#!/usr/bin/env python3
"""Vault index benchmarks (release build), on vaults generated from the architectkb fixture:
  - `claude vault index` first build over N notes (targets: 10,000 < 2 s, 100,000 < 10 s)
  - `claude vault q` warm, whole process (target at 100,000 notes: < 20 ms), with and without
    the refresh stat walk
  - incremental refresh after one edit, whole process (target at 10,000 notes: < 50 ms)
Not a test: figures go in docs/performance.md, "Vault index".

Usage: bench/vault.py [--notes N[,N…]] [--runs N] [--builds N]
(--builds: how many first builds to time, each from an empty index; default 3)
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "architectkb")
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 20
BUILDS = int(sys.argv[sys.argv.index("--builds") + 1]) if "--builds" in sys.argv else 3
SIZES = [int(n) for n in (sys.argv[sys.argv.index("--notes") + 1] if "--notes" in sys.argv
                          else "10000,100000").split(",")]


def fixture_notes():
    notes = []
    for d, dirs, files in os.walk(FIXTURE):
        dirs[:] = [x for x in dirs if x not in (".git", ".obsidian", ".claude", ".data", "node_modules")]
        for f in files:
            if f.endswith(".md"):
                with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
                    notes.append((f[:-3], fh.read()))
    return notes


def generate(dest, n, notes):
    """n notes in folders of 1,000. The first copy of each fixture note keeps its name, so the
    fixture's links resolve; the fixture has four README.md, so a repeated name gets the copy's
    number too (else three notes of d000 overwrite one another and n - 3 are indexed)."""
    os.makedirs(os.path.join(dest, ".git"))
    used = set()
    for i in range(n):
        stem, text = notes[i % len(notes)]
        sub = os.path.join(dest, f"d{i // 1000:03}")
        os.makedirs(sub, exist_ok=True)
        name = stem if i < len(notes) and stem not in used else f"{stem} {i}"
        used.add(name)
        with open(os.path.join(sub, name + ".md"), "w", encoding="utf-8") as fh:
            fh.write(text)


def timed(cmd, env, cwd):
    t = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000


def main():
    if not os.path.isdir(FIXTURE):
        sys.exit(f"skipping: {FIXTURE} not present (the vault benchmark copies its notes)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "claude-cli", "--bins"], cwd=ROOT, check=True)
    claude = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "claude")
    notes = fixture_notes()
    for n in SIZES:
        tmp = tempfile.mkdtemp()
        vault = os.path.join(tmp, "vault")
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        generate(vault, n, notes)
        # Write the new files out first: the kernel writing them back during the runs (1 GB at
        # 100,000 notes, and then the index) skewed the first build and the queries after it.
        os.sync()
        env = {"PATH": os.environ["PATH"], "HOME": home, "CLAUDE_CONFIG_DIR": os.path.join(home, ".claude")}
        builds = []
        for b in range(BUILDS):
            if b:
                shutil.rmtree(os.path.join(vault, ".data"))
                os.sync()
            t = time.perf_counter()
            phases = subprocess.run([claude, "vault", "index"], env={**env, "CLAUDE_VAULT_TIMINGS": "1"}, cwd=vault,
                                    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
            builds.append((time.perf_counter() - t) * 1000)
            os.sync()
        print(f"{n:>7,} notes: first build median {statistics.median(builds):.0f} ms of "
              f"{', '.join(f'{b:.0f}' for b in builds)} (last: {phases.strip()})")
        q = lambda *a: statistics.median(timed([claude, "vault", "q", *a], env, vault) for _ in range(RUNS))
        print(f"{n:>7,} notes: q 'type:Adr status:proposed' --no-refresh median {q('type:Adr status:proposed', '--no-refresh'):.1f} ms")
        print(f"{n:>7,} notes: q kafka --no-refresh median {q('kafka', '--no-refresh'):.1f} ms")
        print(f"{n:>7,} notes: q kafka (with stat-walk refresh) median {q('kafka'):.1f} ms")
        edits = []
        target = os.path.join(vault, "d000", sorted(os.listdir(os.path.join(vault, "d000")))[0])
        for i in range(RUNS):
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(f"\nedit {i} zzedit{i}\n")
            edits.append(timed([claude, "vault", "index"], env, vault))
        print(f"{n:>7,} notes: incremental refresh after one edit median {statistics.median(edits):.1f} ms")
        print(f"{n:>7,} notes: load average {os.getloadavg()[0]:.1f} (other work on the machine skews every figure)")
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
