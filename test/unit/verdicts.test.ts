// The rule that turns probe rounds into verdicts (test/support/host/verdicts.ts), driven by scripted
// rounds: silence counts as blocked only in a round whose controls answered, a UDP silence only
// after a longer confirming round, a void round repeats with a longer wait, and a machine too
// slow for any controlled round gets an error, never a verdict.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Outcome, RoundResult, Target } from "../support/host/netprobe";
import { type Round, UndecidedError, type VerdictOptions, decide } from "../support/host/verdicts";

const OPTIONS: VerdictOptions = { waitMs: 100, confirmWaitMs: 400, maxVoidedInARow: 3, maxWaitMs: 1000 };
const tcp = (port: number): Target => ({ host: "192.0.2.1", port });
const udp = (port: number): Target => ({ host: "192.0.2.1", port, protocol: "udp" });

/** A round that answers from a script: per call, the outcome by port and whether controls answer. */
function scripted(script: { outcomes: Record<number, Outcome>; controls: boolean }[]) {
  const calls: { ports: number[]; waitMs: number }[] = [];
  const round: Round = async (targets, waitMs): Promise<RoundResult> => {
    const step = script[Math.min(calls.length, script.length - 1)]!;
    calls.push({ ports: targets.map((t) => t.port), waitMs });
    return {
      targets: targets.map((t) => step.outcomes[t.port] ?? "timeout"),
      controls: ["open", "open", step.controls ? "open" : "timeout", "open"],
    };
  };
  return { round, calls };
}

test("answers are final in any round; TCP silence is blocked in a round whose controls answered", async () => {
  const { round, calls } = scripted([{ outcomes: { 1: "open", 2: "refused" }, controls: true }]);
  const d = await decide([tcp(1), tcp(2), tcp(3)], round, OPTIONS);
  assert.deepEqual(d.verdicts, ["open", "refused", "blocked"]);
  assert.deepEqual([d.rounds, d.voided, d.attempts], [1, 0, [1, 1, 1]]);
  assert.deepEqual(calls, [{ ports: [1, 2, 3], waitMs: 100 }]);
});

test("a round whose controls did not answer is void: only its silent targets repeat, with a doubled wait", async () => {
  const { round, calls } = scripted([
    { outcomes: { 1: "open" }, controls: false },
    { outcomes: {}, controls: false },
    { outcomes: { 2: "open" }, controls: true },
  ]);
  const d = await decide([tcp(1), tcp(2), tcp(3)], round, OPTIONS);
  assert.deepEqual(d.verdicts, ["open", "open", "blocked"]);
  assert.deepEqual([d.rounds, d.voided, d.attempts], [3, 2, [1, 3, 3]]);
  assert.deepEqual(
    calls.map((c) => [c.ports, c.waitMs]),
    [
      [[1, 2, 3], 100],
      [[2, 3], 200],
      [[2, 3], 400],
    ],
  );
});

test("a silent UDP target is blocked only after a controlled round with the confirmation wait", async () => {
  const silent = scripted([{ outcomes: {}, controls: true }]);
  const d = await decide([udp(5), tcp(6)], silent.round, OPTIONS);
  assert.deepEqual(d.verdicts, ["blocked", "blocked"]);
  assert.deepEqual(
    silent.calls.map((c) => [c.ports, c.waitMs]),
    [
      [[5, 6], 100],
      [[5], 400],
    ],
  );
  // A far listener that answered late is open, not blocked.
  const late = scripted([
    { outcomes: {}, controls: true },
    { outcomes: { 5: "open" }, controls: true },
  ]);
  assert.deepEqual((await decide([udp(5)], late.round, OPTIONS)).verdicts, ["open"]);
  // A void confirming round does not confirm.
  const voidConfirm = scripted([
    { outcomes: {}, controls: true },
    { outcomes: {}, controls: false },
    { outcomes: { 5: "open" }, controls: true },
  ]);
  const v = await decide([udp(5)], voidConfirm.round, OPTIONS);
  assert.deepEqual([v.verdicts, v.voided], [["open"], 1]);
});

test("too many void rounds in a row: an error naming the undecided targets, never a verdict", async () => {
  const { round, calls } = scripted([{ outcomes: {}, controls: false }]);
  await assert.rejects(
    decide([tcp(7), udp(8)], round, OPTIONS),
    (e: unknown) =>
      e instanceof UndecidedError &&
      /4 probe rounds in a row were void/.test(e.message) &&
      /within 800 ms/.test(e.message) &&
      /tcp\/7 on 192\.0\.2\.1, udp\/8 on 192\.0\.2\.1/.test(e.message),
  );
  // The wait doubles, up to maxWaitMs.
  assert.deepEqual(
    calls.map((c) => c.waitMs),
    [100, 200, 400, 800],
  );
});

test("the wait never grows past maxWaitMs", async () => {
  const { round, calls } = scripted([
    ...Array.from({ length: 5 }, () => ({ outcomes: {}, controls: false })),
    { outcomes: {}, controls: true },
  ]);
  const d = await decide([tcp(9)], round, { ...OPTIONS, maxVoidedInARow: 10 });
  assert.deepEqual(d.verdicts, ["blocked"]);
  assert.deepEqual(
    calls.map((c) => c.waitMs),
    [100, 200, 400, 800, 1000, 1000],
  );
});
