// When a probe's outcome may count as a verdict. A connection that completes ("open") or is
// refused is evidence whatever the machine's load. Silence ("timeout") is evidence only when
// the same round shows that silence was not the machine's slowness: its controls (probes
// through the prober's own namespace to listeners no firewall under test governs) all
// answered within the same wait. A round whose controls did not all answer is void and
// repeats with a longer wait, a bounded number of times. A UDP answer needs the far listener
// to run, which the controls cannot show for that listener: a silent UDP target counts as
// blocked only after a second controlled round with the longer confirmation wait.
import type { Outcome, RoundResult, Target } from "./netprobe";

/** A probe's verdict: only "blocked" stands for silence, and only under the rule above. */
export type Verdict = "open" | "refused" | "blocked";

export interface VerdictOptions {
  /** The first round's wait for an answer. */
  readonly waitMs: number;
  /** The wait of the round that confirms a silent UDP target. */
  readonly confirmWaitMs: number;
  /** Void rounds in a row after which the machine is declared too slow to decide anything. */
  readonly maxVoidedInARow: number;
  /** No round waits longer than this, however many were void. */
  readonly maxWaitMs: number;
}

export const DEFAULT_VERDICT_OPTIONS: VerdictOptions = {
  waitMs: 700,
  confirmWaitMs: 3000,
  maxVoidedInARow: 5,
  maxWaitMs: 12_000,
};

export interface Decision {
  readonly verdicts: Verdict[];
  /** Connection attempts made per target: more than one when rounds repeated. */
  readonly attempts: number[];
  readonly rounds: number;
  readonly voided: number;
}

/** One round of attempts at `targets`, with the prober's controls, each waiting `waitMs`. */
export type Round = (targets: Target[], waitMs: number) => Promise<RoundResult>;

export class UndecidedError extends Error {}

/** Probes `targets` in rounds until each has a verdict (see the file's comment). */
export async function decide(
  targets: Target[],
  round: Round,
  options: VerdictOptions = DEFAULT_VERDICT_OPTIONS,
): Promise<Decision> {
  const verdicts: (Verdict | undefined)[] = targets.map(() => undefined);
  const attempts = targets.map(() => 0);
  let pending = targets.map((_, i) => i);
  let waitMs = options.waitMs;
  let rounds = 0;
  let voided = 0;
  let voidedInARow = 0;
  while (pending.length > 0) {
    const result = await round(
      pending.map((i) => targets[i]!),
      waitMs,
    );
    rounds++;
    const controlled = result.controls.every((o) => o === "open");
    const silent: number[] = [];
    pending.forEach((i, k) => {
      attempts[i]!++;
      const outcome: Outcome = result.targets[k]!;
      if (outcome !== "timeout") verdicts[i] = outcome;
      else if (controlled && (targets[i]!.protocol !== "udp" || waitMs >= options.confirmWaitMs))
        verdicts[i] = "blocked";
      else silent.push(i);
    });
    pending = silent;
    if (controlled) {
      voidedInARow = 0;
      waitMs = Math.max(waitMs, options.confirmWaitMs);
      continue;
    }
    voided++;
    if (++voidedInARow > options.maxVoidedInARow) {
      throw new UndecidedError(
        `${voidedInARow} probe rounds in a row were void: their controls (${result.controls.join(", ")}) ` +
          `did not all answer within ${waitMs} ms, so no silence could count as blocked. ` +
          `The machine is too slow for a verdict; the targets left undecided: ` +
          pending.map((i) => describe(targets[i]!)).join(", "),
      );
    }
    waitMs = Math.min(waitMs * 2, options.maxWaitMs);
  }
  return { verdicts: verdicts as Verdict[], attempts, rounds, voided };
}

function describe({ host, port, protocol }: Target): string {
  return `${protocol ?? "tcp"}/${port} on ${host}`;
}
