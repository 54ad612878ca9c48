// A stand-in for one sep at the gate, for the concurrency tests: admit, check the ledger's
// invariant under its lock, hold the admission a while, check again, release.
// usage: bun admit-hold.ts '{"stateDir":…,"project":…,"id":…,"reservationMb":…,"budgetMb":…,"holdMs":…,"checkFile":…}'
import { appendFileSync } from "node:fs";
import { admit } from "../../../../src/core/governor/gate.ts";
import { Ledger } from "../../../../src/core/governor/ledger.ts";

const MB = 1024 * 1024;
const args = JSON.parse(process.argv[2] ?? "{}") as {
  stateDir: string;
  project: string;
  id: string;
  reservationMb: number;
  budgetMb: number;
  holdMs: number;
  checkFile: string;
};

/** One line per check, written while holding the ledger lock: `<id> <event> <Σ admitted bytes> <own entry counted>`. */
function check(ledger: Ledger, event: string, seq: number): void {
  ledger.locked(() => {
    const admitted = ledger.entries().filter((entry) => entry.state !== "waiting");
    const sum = admitted.reduce((total, entry) => total + entry.reservationBytes, 0);
    appendFileSync(args.checkFile, `${args.id} ${event} ${sum} ${admitted.some((entry) => entry.seq === seq) ? 1 : 0}\n`);
  });
}

const admission = await admit({
  stateDir: args.stateDir,
  budget: { budgetBytes: args.budgetMb * MB, reserveBytes: 0 },
  reservation: { bytes: args.reservationMb * MB, source: "flag" },
  job: { id: args.id, projectRoot: args.project, argv: ["work", args.id], cwd: args.project },
  waitTimeoutMs: 120_000,
});
const ledger = new Ledger({ stateDir: args.stateDir });
check(ledger, "admitted", admission.seq);
await Bun.sleep(args.holdMs / 2);
check(ledger, "holding", admission.seq);
await Bun.sleep(args.holdMs / 2);
admission.release();
