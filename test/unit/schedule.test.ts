// The test runner's schedule (test/support/runner/schedule.ts) and the shares it schedules by
// (test/suites.json): longest first, the next suite only while the plan and the machine's own
// measure leave room for its share, and a measure for every suite there is.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  type Machine,
  type Suite,
  SLACK_CORES,
  defaultCost,
  nextToStart,
  queueOrder,
} from "../support/runner/schedule";
import { allSuites, loadCosts } from "../support/runner/suites";

const ROOT = path.join(__dirname, "..", "..");
const suite = (file: string, seconds: number, cores: number, memoryMiB = 100): Suite => ({
  file,
  cost: { seconds, cores, memoryMiB },
  measured: true,
});
const idle: Machine = { cores: 2, busyCores: 0, availableMiB: 20_000 };

test("suites start longest first", () => {
  const order = queueOrder([suite("unit/a", 2, 1), suite("host/booted", 300, 1.2), suite("host/b", 60, 0.4)]);
  assert.deepEqual(
    order.map((s) => s.file),
    ["host/booted", "host/b", "unit/a"],
  );
});

test("a suite starts beside others only while their shares and its own fit in the cores", () => {
  const booted = suite("host/booted", 300, 1.2);
  const sandbox = suite("host/sandbox", 100, 0.8);
  const unit = suite("unit/u", 5, 1);
  assert.equal(nextToStart([booted], [], idle), booted, "nothing runs: the head starts");
  assert.equal(nextToStart([sandbox], [booted], idle), sandbox, "1.2 + 0.8 cores fit in 2");
  assert.equal(nextToStart([unit], [booted, sandbox], idle), undefined, "3 cores do not fit in 2");
  assert.equal(nextToStart([unit], [booted], idle), unit, `2.2 cores are within the slack of ${SLACK_CORES}`);
  assert.equal(nextToStart([], [booted], idle), undefined);
});

test("the machine's own measure holds a suite back when other work keeps the cores busy", () => {
  const next = suite("host/sandbox", 100, 0.8);
  const running = [suite("unit/u", 5, 0.3)];
  assert.equal(nextToStart([next], running, { ...idle, busyCores: 0.5 }), next);
  // A CPU hog on one core: 0.3 planned, but 1.6 busy.
  assert.equal(nextToStart([next], running, { ...idle, busyCores: 1.6 }), undefined);
  // However busy the machine is, a suite runs when none of ours does: the run always progresses.
  assert.equal(nextToStart([next], [], { ...idle, busyCores: 2 }), next);
});

test("a suite waits for memory, and the head is never passed by a smaller suite", () => {
  const big = suite("host/booted", 300, 0.5, 4000);
  const small = suite("unit/u", 5, 0.1, 10);
  const running = [suite("host/other", 100, 0.5, 100)];
  assert.equal(nextToStart([big, small], running, { ...idle, availableMiB: 3000 }), undefined);
  assert.equal(nextToStart([big, small], running, idle), big);
});

test("an unmeasured suite is taken at a default share: a host suite a whole core", () => {
  assert.equal(defaultCost("test/host/new.test.ts").cores, 1);
  assert.ok(defaultCost("test/unit/new.test.ts").cores < 1);
});

test("test/suites.json measures every suite there is, and no suite that is gone", () => {
  const costs = loadCosts(ROOT);
  assert.ok(costs, "test/suites.json is missing: run `npm run test:measure` as root");
  const suites = allSuites(ROOT);
  const measured = Object.keys(costs.suites);
  assert.deepEqual(
    suites.filter((s) => !measured.includes(s)),
    [],
    "suites without a measure (they run at a default share): run `npm run test:measure -- FILE...` as root",
  );
  assert.deepEqual(
    measured.filter((s) => !suites.includes(s)),
    [],
    "measures of suites that are gone: run `npm run test:measure`",
  );
  for (const [file, cost] of Object.entries(costs.suites)) {
    assert.ok(cost.seconds > 0 && cost.cores > 0 && cost.memoryMiB >= 0, `${file}: ${JSON.stringify(cost)}`);
  }
});
