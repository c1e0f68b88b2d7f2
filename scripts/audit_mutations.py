#!/usr/bin/env python3
"""The audit's mutations (issue 14), re-run: each mutation applied alone in a copy of the working
tree (never in the checkout itself), the named test files run, red or green printed.

  python3 scripts/audit_mutations.py [scripts/audit_mutations.json] [ID ...]

A mutation whose text is no longer in the file is reported, not skipped silently. See docs/testing.md.
"""
import json, os, shutil, subprocess, sys, tempfile
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOX = os.path.join(tempfile.mkdtemp(prefix="bertune-mutations-"), "main")
os.environ.setdefault("BERTUNE_TEST_SHARED", os.path.join(os.path.dirname(SRC), "shared"))
def sync():
    os.makedirs(BOX)
    for d in ["src", "test", "schemas", "models", "datasets", "scripts"]:
        if os.path.exists(os.path.join(SRC, d)): shutil.copytree(os.path.join(SRC, d), os.path.join(BOX, d), symlinks=True)
    for f in ["package.json", "tsconfig.json", "vitest.config.ts", ".npmrc"]:
        shutil.copy(os.path.join(SRC, f), BOX)
    os.symlink(os.path.join(SRC, "node_modules"), os.path.join(BOX, "node_modules"))
args = sys.argv[1:]
table = args.pop(0) if args and args[0].endswith(".json") else os.path.join(SRC, "scripts", "audit_mutations.json")
MUTS = json.load(open(table))
only = args
sync()
results = []
for m in MUTS:
    if only and m["id"] not in only: continue
    p = os.path.join(BOX, m["file"])
    orig = open(p).read()
    if orig.count(m["old"]) != 1:
        print("MISSING", m["id"], f"(the text occurs {orig.count(m['old'])} times in {m['file']})", flush=True)
        continue
    open(p, "w").write(orig.replace(m["old"], m["new"]))
    pre = "npx tsc -p tsconfig.json >/dev/null && " if m.get("build") else ""
    r = subprocess.run(f"cd {BOX} && {pre}npx vitest run {' '.join(m['tests'])} 2>&1", shell=True, capture_output=True, text=True)
    open(p, "w").write(orig)
    failed = [l.strip() for l in r.stdout.splitlines() if l.strip().startswith("×")]
    summary = [l.strip() for l in r.stdout.splitlines() if "Tests " in l]
    red = r.returncode != 0
    results.append({"id": m["id"], "red": red, "summary": summary, "failed": failed[:6]})
    print(("RED  " if red else "GREEN"), m["id"], summary, flush=True)
    for f in failed[:6]: print("      ", f[:220], flush=True)
shutil.rmtree(os.path.dirname(BOX), ignore_errors=True)
sys.exit(0 if all(r["red"] for r in results) and len(results) == len([m for m in MUTS if not only or m["id"] in only]) else 1)
