// A sep holding an admission whose job (a real `sleep`, in its own process group, carrying the
// job marker) is SIGSTOPped: the test SIGKILLs this process and checks the next admit() cleans up.
// usage: bun admit-stopped-job.ts STATE_DIR JOB_ID        prints {"pid":N} when ready
import { admit } from "../../../../src/core/governor/gate.ts";
import { processStartTime } from "../../../../src/core/proc/index.ts";

const [stateDir = "", id = ""] = process.argv.slice(2);
const admission = await admit({
  stateDir,
  budget: { budgetBytes: 1024 * 1024 * 1024, reserveBytes: 0 },
  reservation: { bytes: 100 * 1024 * 1024, source: "flag" },
  job: { id, projectRoot: "/tmp", argv: ["sleep", "60"], cwd: "/tmp" },
});
const job = Bun.spawn(["sleep", "60"], { detached: true, env: { ...process.env, SEP_JOB_ID: id }, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
admission.jobStarted(job.pid, processStartTime(job.pid) ?? undefined);
process.kill(-job.pid, "SIGSTOP");
console.log(JSON.stringify({ pid: job.pid }));
await Bun.sleep(600_000);
