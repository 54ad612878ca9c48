// Running a tool's own listing while planning (pytest --collect-only, jest --listTests, vitest
// list, node asking eslint / prettier): output captured, never a shell, and a time limit so a
// hanging import cannot hang `sep queue add`.

export type ListingResult =
  | { ok: true; exitCode: number; stdout: string; stderr: string }
  | { ok: false; why: string };

export async function runListing(
  argv: string[],
  options: { cwd: string; env: Record<string, string | undefined>; input?: string; timeoutMs: number },
): Promise<ListingResult> {
  let child;
  try {
    child = Bun.spawn(argv, { cwd: options.cwd, env: options.env, stdin: options.input === undefined ? "ignore" : "pipe", stdout: "pipe", stderr: "pipe" });
  } catch (error) {
    return { ok: false, why: `could not run ${argv[0]} (${(error as Error).message})` };
  }
  if (options.input !== undefined && child.stdin) {
    child.stdin.write(options.input);
    await child.stdin.end();
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  const [exitCode, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  clearTimeout(timer);
  if (timedOut) return { ok: false, why: `${argv[0]} took over ${options.timeoutMs / 1000} s` };
  return { ok: true, exitCode, stdout, stderr };
}
