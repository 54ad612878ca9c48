// A sep whose job gets paused, for the signal tests: runs JOB... under runJob with the interrupt
// handlers installed, pauses the tree shortly after the start, prints {"pids":[…]} (the paused
// tree), and exits as sep would (130/143/129 when interrupted).
// usage: bun paused-sep.ts KILL_GRACE_MS JOB...
import { runJob } from "../../../src/core/executor.ts";
import { installInterruptHandlers, interruptExitCode, interruptSignal } from "../../../src/core/interrupts.ts";
import { descendants } from "../../../src/core/proc/index.ts";

const [grace = "300", ...argv] = process.argv.slice(2);
installInterruptHandlers();
const result = await runJob({
  id: "paused-worker-job",
  argv,
  cwd: process.cwd(),
  env: process.env,
  timeoutMs: 60_000,
  memoryLimitBytes: 0,
  checkIntervalMs: 250,
  killGraceMs: Number(grace),
  control: (job) => {
    // Let the tree fork first, then stop all of it.
    setTimeout(() => {
      job.pause();
      console.log(JSON.stringify({ pids: descendants(process.pid) }));
    }, 300);
    return () => {};
  },
});
process.exit(interruptSignal() ? interruptExitCode() : result.verdict.exitCode);
