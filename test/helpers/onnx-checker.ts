import { spawnSync } from "node:child_process";

/** A Python that has ONNX's own package (Debian's python3-onnx), or undefined. */
function pythonWithOnnx(): string | undefined {
  for (const py of [process.env.BERTUNE_PYTHON, "python3", "/usr/bin/python3"]) {
    if (py && spawnSync(py, ["-c", "import onnx"], { stdio: "ignore" }).status === 0) return py;
  }
  return undefined;
}

const python = pythonWithOnnx();
// Under CI (.ci/run installs python3-onnx) a missing checker is an error, never a silent skip.
if (!python && process.env.CI) throw new Error("CI is set but no python3 with the onnx package was found (apt-get install python3-onnx)");
if (!python) console.warn("ONNX checker tests skipped: no python3 with the onnx package (apt-get install python3-onnx)");

export const haveOnnxChecker = python !== undefined;

/** Run onnx.checker.check_model(full_check=True) on each file: "" when all pass, else the checker's words. */
export function checkOnnx(paths: string[]): string {
  const script = "import onnx, sys\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\n";
  const r = spawnSync(python!, ["-c", script, ...paths], { encoding: "utf8" });
  return r.status === 0 ? "" : `${r.stderr}${r.stdout}`.trim() || `exit ${r.status}`;
}
