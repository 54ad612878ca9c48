// SIGINT/SIGTERM/SIGHUP to sep: the first one cancels (the job tree is killed gracefully), a second
// one escalates to SIGKILL at once. Without handlers sep would die and leave its detached job running.
import { signalNumber } from "./conclusion.ts";

export type InterruptSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

const controller = new AbortController();
const repeatListeners = new Set<() => void>();
let installed = false;

/** Aborted on the first signal; `reason` is the signal's name. */
export const interrupted: AbortSignal = controller.signal;

export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (!controller.signal.aborted) controller.abort(signal);
      else for (const listener of repeatListeners) listener();
    });
  }
}

export function interruptSignal(): InterruptSignal | undefined {
  return interrupted.aborted ? (interrupted.reason as InterruptSignal) : undefined;
}

/** sep's exit code for the signal that interrupted it: 130, 143 or 129 (DESIGN §3). */
export function interruptExitCode(): number {
  return 128 + signalNumber(interruptSignal() ?? "SIGINT");
}

/** Called on every signal after the first. */
export function onRepeatedInterrupt(listener: () => void): () => void {
  repeatListeners.add(listener);
  return () => repeatListeners.delete(listener);
}
