// Where things live: the project root and sep's state layout under it. Pure, apart from existsSync.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** Config file names c12 would load for the name "sep". */
export const CONFIG_FILE_NAMES = [
  "sep.config.ts",
  "sep.config.mts",
  "sep.config.cts",
  "sep.config.js",
  "sep.config.mjs",
  "sep.config.cjs",
  "sep.config.json",
] as const;

export const DOTENV_FILE = ".env.development";

const ROOT_MARKERS = [...CONFIG_FILE_NAMES, DOTENV_FILE, ".git"];

/**
 * The project root: the nearest ancestor of cwd holding a sep config, `.env.development` or `.git`;
 * else cwd itself. State is anchored here so every subdirectory shares one queue and one log.
 */
export function findProjectRoot(cwd: string): string {
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (ROOT_MARKERS.some((name) => existsSync(join(dir, name)))) return dir;
    if (dirname(dir) === dir) return cwd;
  }
}

/** The first sep config file in root, if any. */
export function findConfigFile(root: string): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const path = join(root, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Machine scope: one queue for all of this user's projects, in a private per-user directory. */
export function machineStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "sep");
  return join(env.HOME || homedir(), ".local", "state", "sep");
}

/** Files of the turn-taking machinery inside a lock dir. */
export function lockLayout(lockDir: string) {
  return {
    dir: lockDir,
    ticketsDir: join(lockDir, "tickets"),
    ticketsLock: join(lockDir, "tickets.lock"),
    ticketCounter: join(lockDir, "ticket-counter"),
    slotsDir: join(lockDir, "slots"),
    slotLock: (slot: number) => join(lockDir, "slots", `${slot}.lock`),
    slotHolder: (slot: number) => join(lockDir, "slots", `${slot}.json`),
    /** the holder again, once its job is spawned, with the job's process group (see turn/slots.ts) */
    slotStarted: (slot: number) => join(lockDir, "slots", `${slot}.started.json`),
    queueDir: join(lockDir, "queue"),
    queueEntry: (seq: number) => join(lockDir, "queue", `${String(seq).padStart(12, "0")}.json`),
    queueLock: join(lockDir, "queue.lock"),
    queueCounter: join(lockDir, "queue-counter"),
    claimedDir: join(lockDir, "queue", "claimed"),
    corruptDir: join(lockDir, "queue", "corrupt"),
    pausedFlag: join(lockDir, "queue", "paused"),
    drainLock: join(lockDir, "drain.lock"),
    drainInfo: join(lockDir, "drain.json"),
  };
}

/** Run and job records inside a log dir. */
export function logLayout(logDir: string) {
  const runsDir = join(logDir, "runs");
  const runDir = (runId: string) => join(runsDir, runId);
  return {
    dir: logDir,
    runsDir,
    runDir,
    runRecord: (runId: string) => join(runDir(runId), "run.json"),
    jobsDir: (runId: string) => join(runDir(runId), "jobs"),
    jobRecord: (runId: string, n: number) => join(runDir(runId), "jobs", `${n}.json`),
    jobLog: (runId: string, n: number) => join(runDir(runId), "jobs", `${n}.log`),
    /** how far the caller of a detached run has read each job's log (`sep wait` goes on from there) */
    seen: (runId: string) => join(runDir(runId), "seen.json"),
  };
}
