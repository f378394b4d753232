// The seed's home server behind its NAT router: what a source-restricted rule on a forwarded
// port really does in each router mode, and that the warning says exactly that.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { sandboxUnavailable } from "../support/host/sandbox";
import { applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/host/hostTest";
import { parseStackSettings } from "../../components/stack/settings";
import { readStackFile } from "../../components/stack/stackFile";
import { formatWarning } from "../../components/policy/errors";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

/** The warnings `npm run plan` and `pulumi up` give for the home stack with this router. */
function natWarning(masquerade: boolean): string {
  const read = readStackFile(path.join(__dirname, "..", "..", "stacks"), "home");
  const settings = parseStackSettings((key) =>
    key === "existing"
      ? { ...(read("existing") as object), router: { address: "192.168.1.1", forwards: [8000], masquerade } }
      : read(key),
  );
  const warnings = settings.warnings.filter((w) => w.message.includes("router")).map(formatWarning);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  return warnings[0]!;
}

describe("behind a NAT router", { skip }, () => {
  for (const masquerade of [false, true]) {
    test(`${masquerade ? "DNAT and MASQUERADE" : "plain port forwarding (DNAT)"}: the rule does what the warning says`, async () => {
      const sandbox = await newSandbox();
      await applyOk(sandbox, await homeSteps(sandbox));
      sandbox.forward(8000, masquerade);
      const internet = await sandbox.probe(sandbox.untrusted, [{ host: "203.0.113.1", port: 8000 }]);
      const lan = await sandbox.probe(sandbox.trusted, [{ host: sandbox.server.v4, port: 8000 }]);
      assert.deepEqual(lan, ["open"], "the LAN is admitted either way");
      const warning = natWarning(masquerade);
      if (masquerade) {
        assert.deepEqual(internet, ["open"], "the host sees the router, which the LAN rule admits");
        assert.match(warning, /this rule admits the whole internet/);
      } else {
        assert.deepEqual(internet, ["blocked"], "the host sees the internet client's own address");
        assert.match(warning, /this rule turns away every internet client the router forwards/);
      }
      assert.match(
        warning,
        /^openclaw:firewall\.services\[0\]: openclaw-api restricts 8000\/tcp to 192\.168\.1\.0\/24, but the router .*Restrict the source on the router, or reach the service over a VPN instead\.$/,
      );
    });
  }
});
