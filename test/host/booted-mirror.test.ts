// The local mirrors (openclawMirror.ts) serve a booted Debian host what OpenClaw's install needs,
// as nodejs.org and the npm registry would: Node's official tarball checked against its
// SHASUMS256.txt, then openclaw and its whole tree from the registry mirror, with nothing else
// reachable (the sandbox has no way out).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bootedUnavailable } from "../support/host/bootedHost";
import { hostSuiteSkip } from "../support/host/hostTest";
import { bootedPool } from "../support/host/bootedTest";
import { MIRROR_OPENCLAW_VERSIONS, openclawMirror, serveMirror } from "../support/openclaw/openclawMirror";

const skip = hostSuiteSkip(bootedUnavailable());
const newHost = bootedPool();
/** npm's install of openclaw runs for a minute or two on this machine. */
const TIMEOUT = 10 * 60_000;

describe("the OpenClaw mirrors on a booted Debian host (systemd-nspawn)", { skip }, () => {
  test(
    "Node from the distribution mirror, then openclaw from the registry mirror",
    { timeout: TIMEOUT },
    async () => {
      const mirror = openclawMirror();
      const host = await newHost();
      // The trusted peer, on the host's LAN: the host reaches it over IPv4.
      const served = await serveMirror(host.trusted.ns, host.trusted.v4, 4873);
      try {
        const node = mirror.nodeVersion;
        const file = `node-v${node}-linux-x64.tar.xz`;
        let started = Date.now();
        const sums = host.onServer(
          [
            "mkdir -p /root/node-dl && cd /root/node-dl",
            `curl -fsS -O ${served.nodeDistUrl}v${node}/${file} -O ${served.nodeDistUrl}v${node}/SHASUMS256.txt`,
            `grep '  ${file}$' SHASUMS256.txt | sha256sum -c -`,
            "mkdir -p /opt/test-node",
            `tar -xJf ${file} -C /opt/test-node --strip-components=1`,
            "cat SHASUMS256.txt",
          ].join("\n"),
        );
        const nodeMs = Date.now() - started;
        assert.match(sums, new RegExp(`^${file}: OK$`, "m"));
        assert.match(sums, new RegExp(`^${mirror.nodeSha256}  ${file}$`, "m"));
        assert.equal(
          host.onServer("/opt/test-node/bin/node --version; PATH=/opt/test-node/bin:$PATH npm --version"),
          `v${node}\n${mirror.npmVersion}\n`,
        );

        // Each version into its own prefix, from an empty npm cache, as on a fresh host.
        const installMs: number[] = [];
        for (const version of MIRROR_OPENCLAW_VERSIONS) {
          started = Date.now();
          const printed = host.onServer(
            [
              "export PATH=/opt/test-node/bin:$PATH",
              `npm install --prefix /tmp/oc-${version} --cache /tmp/npm-${version} --registry ${served.npmRegistry} --engine-strict --no-audit --no-fund --loglevel=error openclaw@${version} >/dev/null`,
              `/tmp/oc-${version}/node_modules/.bin/openclaw --version`,
            ].join("\n"),
          );
          installMs.push(Date.now() - started);
          assert.match(printed, new RegExp(`\\b${version.replace(/\./g, "\\.")}\\b`));
        }
        assert.equal(served.misses(), "", "every request the installs made was answered");
        console.log(`node download+check+extract ${nodeMs} ms, npm install ${installMs.join(" ms, ")} ms`);
      } finally {
        served.close();
      }
    },
  );
});
