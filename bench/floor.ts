// The floor under any sep built on this runtime: flock(1) written for Bun and compiled the way sep is
// (bench/lib.ts builds it with build.ts's options). `floor --version` prints a version;
// `floor LOCKFILE COMMAND...` takes a blocking flock(2) on LOCKFILE, runs COMMAND with sep's stdio,
// releases the lock when COMMAND ends and exits with its code. No config, turn order, records,
// limits or governor: what a sep invocation costs above this program is sep's own work, and a goal
// below this program's own figures cannot be met by any per-invocation Bun process.
import { dlopen, FFIType } from "bun:ffi";
import { openSync } from "node:fs";

const LOCK_EX = 2;
const LOCK_UN = 8;
const [first, ...command] = process.argv.slice(2);
if (first === "--version") {
  console.log("floor 1");
  process.exit(0);
}
if (!first || command.length === 0) {
  console.error("usage: floor --version | floor LOCKFILE COMMAND...");
  process.exit(2);
}
const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
const fd = openSync(first, "a");
libc.symbols.flock(fd, LOCK_EX); // blocks in the kernel, as flock(1) does
const child = Bun.spawn(command, { stdio: ["inherit", "inherit", "inherit"] });
const code = await child.exited;
libc.symbols.flock(fd, LOCK_UN);
process.exit(code);
