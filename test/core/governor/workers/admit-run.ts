// A stand-in for one sep running one job under the governor, wired as the job lifecycle will be:
// admit → runJob with the admission's control hook → jobStarted on spawn → release.
// usage: bun admit-run.ts '{"stateDir":…,"id":…,"budgetMb":…,"reserveMb":…,"reservationMb":…,"argv":[…],"timing":{…}}'
// Prints one JSON line at the end: { exitCode, pausedMs, admissionPausedMs, waitedMs }.
import { admit } from "../../../../src/core/governor/gate.ts";
import { runJob } from "../../../../src/core/executor.ts";

const MB = 1024 * 1024;
const args = JSON.parse(process.argv[2] ?? "{}") as {
  stateDir: string;
  id: string;
  budgetMb: number;
  reserveMb: number;
  reservationMb: number;
  argv: string[];
  timing?: Record<string, number>;
};

const admission = await admit({
  stateDir: args.stateDir,
  budget: { budgetBytes: args.budgetMb * MB, reserveBytes: args.reserveMb * MB },
  reservation: { bytes: args.reservationMb * MB, source: "flag" },
  job: { id: args.id, projectRoot: process.cwd(), argv: args.argv, cwd: process.cwd() },
  timing: args.timing,
  onPressure: (event) => console.error(`pressure: ${event.action} (${event.why})`),
});
try {
  const result = await runJob({
    id: args.id,
    argv: args.argv,
    cwd: process.cwd(),
    env: process.env,
    timeoutMs: 60_000,
    memoryLimitBytes: 0,
    checkIntervalMs: 100,
    killGraceMs: 1000,
    onSpawn: (pid, startTime) => admission.jobStarted(pid, startTime),
    control: admission.control,
  });
  console.log(JSON.stringify({ exitCode: result.verdict.exitCode, pausedMs: result.pausedMs, admissionPausedMs: admission.pausedMs(), waitedMs: admission.record.waitedMs }));
} finally {
  admission.release();
}
