// `sep top` in a terminal: read the machine every interval, draw it full-screen, redraw at the new
// size when the terminal is resized, and quit on `q` or Ctrl-C, on SIGINT, SIGTERM or SIGHUP, or on
// an error, always putting the terminal back first. `--json` streams the same view as lines.
import type { MachineView, MachineViewer } from "../core/governor/view.ts";
import { installInterruptHandlers, interrupted, interruptExitCode } from "../core/interrupts.ts";
import { compileHotLoopsSoon } from "../core/jit.ts";
import { textWidth } from "../format.ts";
import { tryWriteStdout } from "../output.ts";
import { MemoryHistory } from "./history.ts";
import { renderFrame, whyText } from "./render.ts";
import { frameText, Screen } from "./terminal.ts";

/** The fastest redraw: refreshes and resizes together draw at most 4 times a second. */
const MIN_DRAW_MS = 250;
/** In raw mode Ctrl-C is a key (0x03), not a signal. */
const QUIT_KEYS = new Set(["q", "Q", "\x03"]);

/** The live view until the user quits; resolves with sep's exit code, rejects (after restoring the terminal) on an error. */
export function runLive(viewer: MachineViewer, intervalMs: number): Promise<number> {
  installInterruptHandlers();
  compileHotLoopsSoon();
  const screen = new Screen();
  const history = new MemoryHistory();
  return new Promise<number>((resolve, reject) => {
    let view: MachineView | undefined;
    let done = false;
    let lastDraw = 0;
    let drawing = false;
    let drawAgain = false;
    let drawTimer: ReturnType<typeof setTimeout> | undefined;
    let refreshTimer: ReturnType<typeof setInterval> | undefined;

    const finish = (code: number, error?: unknown) => {
      if (done) return;
      done = true;
      clearInterval(refreshTimer);
      if (drawTimer) clearTimeout(drawTimer);
      interrupted.removeEventListener("abort", onSignal);
      process.stdout.off("resize", requestDraw);
      process.off("SIGWINCH", requestDraw);
      screen.leave();
      if (error === undefined) resolve(code);
      else reject(error);
    };
    const onSignal = () => finish(interruptExitCode());

    const draw = async () => {
      drawTimer = undefined;
      if (done || !view) return;
      if (drawing) {
        drawAgain = true;
        return;
      }
      drawing = true;
      lastDraw = Date.now();
      try {
        const columns = screen.columns();
        const rows = screen.rows();
        const lines = renderFrame(view, history, { width: columns, height: rows, nowMs: lastDraw, intervalMs, live: true });
        // The terminal went away (its window closed): nobody is left to show anything to.
        if (!(await screen.write(frameText(lines, columns, rows, textWidth)))) finish(0);
      } catch (error) {
        finish(1, error);
      } finally {
        drawing = false;
      }
      if (drawAgain) {
        drawAgain = false;
        requestDraw();
      }
    };
    /** Draw soon: at once, or when MIN_DRAW_MS have passed since the last draw; requests in between join it. */
    function requestDraw(): void {
      if (done || drawTimer) return;
      drawTimer = setTimeout(draw, Math.max(0, lastDraw + MIN_DRAW_MS - Date.now()));
    }
    const refresh = () => {
      try {
        const nowMs = Date.now();
        view = viewer.read(nowMs);
        history.record(view, nowMs);
      } catch (error) {
        finish(1, error);
        return;
      }
      requestDraw();
    };

    interrupted.addEventListener("abort", onSignal);
    process.stdout.on("resize", requestDraw);
    process.on("SIGWINCH", requestDraw);
    refreshTimer = setInterval(refresh, intervalMs);
    try {
      screen.enter((keys) => {
        for (const key of keys) if (QUIT_KEYS.has(key)) finish(0);
      });
      refresh();
    } catch (error) {
      finish(1, error);
    }
  });
}

/**
 * `sep top --json`: one JSON object per refresh, one per line (docs/governor.md), until a signal
 * (130/143/129) or until the reader goes away (0).
 */
export async function streamJson(viewer: MachineViewer, intervalMs: number): Promise<number> {
  installInterruptHandlers();
  const history = new MemoryHistory();
  for (;;) {
    if (interrupted.aborted) return interruptExitCode();
    const nowMs = Date.now();
    const view = viewer.read(nowMs);
    history.record(view, nowMs);
    if (!(await tryWriteStdout(`${JSON.stringify(viewJson(view, history))}\n`))) return 0;
    await _sleep(intervalMs);
  }
}

/** The view as `--json` gives it: the view's fields, and for each job its worded reason and its peak of the last minute. */
function viewJson(view: MachineView, history: MemoryHistory) {
  return {
    ...view,
    jobs: view.jobs.map(({ key, ...job }) => ({ ...job, why: whyText({ key, ...job }) ?? null, recentPeakBytes: history.peak(key) })),
  };
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      interrupted.removeEventListener("abort", done);
      resolve();
    }
    interrupted.addEventListener("abort", done);
  });
}
