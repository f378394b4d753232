// How the runner writes what it tells: durations, and failed tests repeated in the summary, where
// the tail of a CI log shows them.

/** The lines of a failure the summary repeats: enough to say what failed, not the whole stack. */
const ERROR_LINES = 12;

/** A duration as the summary prints it: "42.0 s", or "3 min 0 s" (never "2 min 60 s"). */
export function fmtSeconds(s: number): string {
  if (s < 59.95) return `${s.toFixed(1)} s`;
  // Rounded once, so the minutes carry what the seconds would round up to.
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** A failed test's error as its test said it (node:test wraps it in ERR_TEST_FAILURE), cut short. */
export function failureText(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  const lines = text.split("\n");
  if (lines.length <= ERROR_LINES) return text;
  return [
    ...lines.slice(0, ERROR_LINES),
    `... (${lines.length - ERROR_LINES} more lines in its report above)`,
  ].join("\n");
}

/** A failure as the summary's comment lines: the suite, the test, what it said. */
export function failureLines(file: string, name: string, error: string): string {
  return [`# FAILED ${file}: ${name}`, ...error.split("\n").map((line) => `#   ${line}`)].join("\n");
}
