// sep starts with the JIT held back (build.ts `jitPolicy`): most invocations are a few
// milliseconds of code that runs once, which the JIT would compile for nothing. Once sep has been
// running for a while (a job's supervision, a drain, `sep top`, following a log), its hot loops are
// worth compiling again.

/** How long sep must have been supervising or watching before its loops count as hot. */
const HOT_AFTER_MS = 100;
let _armed = false;

/**
 * Back to the runtime's normal JIT thresholds in HOT_AFTER_MS, once per process: an invocation
 * that is over by then (`sep -- true`, one short job) never pays for compiling.
 */
export function compileHotLoopsSoon(): void {
  if (_armed) return;
  _armed = true;
  setTimeout(() => {
    try {
      Bun.unsafe.setJITPolicy(1);
    } catch {
      // a runtime without it held nothing back
    }
  }, HOT_AFTER_MS).unref();
}
