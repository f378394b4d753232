// What a config was refused for: the problems of the PolicyError that `run` throws.
import assert from "node:assert/strict";
import { PolicyError, type PolicyProblem } from "../../components/policy/errors";

/** The problems `run` is refused with; fails the test when it is accepted or throws anything else. */
export function problems(run: () => unknown): PolicyProblem[] {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected a PolicyError, got ${String(e)}`);
    return [...e.problems];
  }
  return assert.fail("accepted");
}
