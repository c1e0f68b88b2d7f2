import { existsSync } from "node:fs";
import { join } from "node:path";

/** Where a Linux system keeps libvulkan.so.1 (the loader), plus LD_LIBRARY_PATH. */
function libraryDirs(): string[] {
  const triplets = ["x86_64-linux-gnu", "aarch64-linux-gnu"];
  const dirs = (process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean);
  for (const root of ["/usr/lib", "/lib"]) dirs.push(...triplets.map((t) => join(root, t)), root);
  dirs.push("/usr/lib64", "/lib64", "/usr/local/lib");
  return dirs;
}

/**
 * Why WebGPU cannot start on this machine before Dawn is asked (Dawn then prints a Vulkan
 * warning of its own on stderr), or undefined when it may. On Linux Dawn needs the Vulkan loader.
 */
export function webgpuUnavailableReason(dirs: readonly string[] = libraryDirs(), platform: string = process.platform): string | undefined {
  if (platform !== "linux") return undefined;
  if (dirs.some((d) => existsSync(join(d, "libvulkan.so.1")))) return undefined;
  return "no WebGPU adapter: the Vulkan loader (libvulkan.so.1) is not installed";
}

export const WEBGPU_HINT = "install the Vulkan loader and the GPU driver's Vulkan ICD (Debian/Ubuntu: apt-get install libvulkan1; NVIDIA's ICD ships with its driver), or drop --device webgpu";
