// The multi-language schema: what `pulumi package add` infers from OpenClawServer's types must
// be the schema.json checked in, so a change to the args shows up in review and a type the
// analyzer refuses fails here instead of in a consumer's `pulumi package add`.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { SCHEMA_FILE, generateSchema } from "../../bin/schema";

// The analyzer type-checks the whole project: once for both tests.
const generating = generateSchema();

test("schema.json is the schema the analyzer infers from the TypeScript types (npm run schema)", async () => {
  const generated = await generating;
  const checkedIn = fs.readFileSync(SCHEMA_FILE, "utf8");
  assert.equal(checkedIn, generated, "schema.json is out of date: run `npm run schema` and commit it");
});

test("the schema has one optional block per target and named types only", async () => {
  const schema = JSON.parse(await generating) as {
    name: string;
    resources: Record<string, { inputProperties: Record<string, unknown>; requiredInputs: string[] }>;
    types: Record<string, { type: string; properties?: Record<string, unknown> }>;
  };
  const component = schema.resources[`${schema.name}:index:OpenClawServer`]!;
  assert.deepEqual(Object.keys(component.inputProperties).sort(), [
    "aws",
    "existing",
    "firewall",
    "hardening",
    "hcloud",
    "openclaw",
    "ssh",
  ]);
  assert.deepEqual([...component.requiredInputs].sort(), ["firewall", "ssh"]);
  // Every object in the args is a named type: no anonymous object reached the schema.
  for (const [name, t] of Object.entries(schema.types)) {
    if (t.type === "object") assert.ok(t.properties, `${name} has properties`);
  }
});
