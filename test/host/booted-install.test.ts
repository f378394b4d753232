// A booted Debian host without ufw (Debian's cloud images ship without it): the harden step
// installs it from the package source the host is configured with, then converges. The source
// is a local repository the test makes from ufw's .debs (booted-image.sh keeps them): the
// sandbox has no way to the internet.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { type BootedHost, bootedImage, bootedUnavailable } from "../support/host/bootedHost";
import { applyOk, hostSuiteSkip } from "../support/host/hostTest";
import { bootedPool, probeTargets, SEED_PROBES } from "../support/host/bootedTest";

const skip = hostSuiteSkip(bootedUnavailable());
const newHost = bootedPool();
const REPO = "/srv/openclaw-repo";

/**
 * Makes a flat package repository at REPO on the host from the cached .debs, and makes it the
 * host's only package source, as an image built for a private mirror would have it.
 */
function configureLocalRepository(host: BootedHost): string[] {
  const debs = path.join(bootedImage(), "debs");
  const repo = path.join(host.root, REPO);
  fs.mkdirSync(repo, { recursive: true });
  const names = fs.readdirSync(debs).filter((f) => f.endsWith(".deb"));
  const index = names.map((name) => {
    const file = path.join(debs, name);
    fs.copyFileSync(file, path.join(repo, name));
    const data = fs.readFileSync(file);
    const control = execFileSync("dpkg-deb", ["-f", file], { encoding: "utf8" }).trimEnd();
    return [
      control,
      `Filename: ./${name}`,
      `Size: ${data.length}`,
      `SHA256: ${createHash("sha256").update(data).digest("hex")}`,
      "",
    ].join("\n");
  });
  fs.writeFileSync(path.join(repo, "Packages"), index.join("\n"));
  fs.writeFileSync(path.join(host.root, "etc/apt/sources.list"), `deb [trusted=yes] file:${REPO} ./\n`);
  for (const f of fs.readdirSync(path.join(host.root, "etc/apt/sources.list.d"))) {
    fs.rmSync(path.join(host.root, "etc/apt/sources.list.d", f));
  }
  return names;
}

describe("a booted Debian host without ufw (systemd-nspawn)", { skip }, () => {
  test("proof 5: harden installs ufw from the host's package source, then converges", async () => {
    const host = await newHost("noufw");
    assert.equal(host.onServer("command -v ufw || echo none").trim(), "none", "the image has no ufw");
    const debs = configureLocalRepository(host);
    assert.ok(
      debs.some((d) => d.startsWith("ufw_")),
      debs.join(" "),
    );

    const { harden } = await applyOk(host, await host.steps());
    assert.match(harden, /^openclaw: installing ufw$/m);
    assert.match(harden, /converged: 2 added, 0 removed/);
    assert.match(host.onServer("dpkg-query -W -f '${Status}' ufw"), /install ok installed/);
    // Installed from the local repository: the only source apt knows of.
    assert.match(
      host.onServer("apt-cache policy ufw"),
      new RegExp(`\\*\\*\\* \\S+ \\d+\\n\\s+\\d+ file:${REPO} \\./ Packages\\n\\s+\\d+ /var/lib/dpkg/status`),
    );
    assert.match(host.onServer("cat /var/log/apt/history.log"), /^Install: ufw:/m);
    assert.equal(host.onServer("systemctl is-enabled ufw.service").trim(), "enabled");

    const targets = probeTargets(host, SEED_PROBES.ports);
    assert.deepEqual(await host.probe(host.trusted, targets), SEED_PROBES.trusted);
    assert.deepEqual(await host.probe(host.untrusted, targets), SEED_PROBES.untrusted);
    const { harden: again } = await applyOk(host, await host.steps());
    assert.match(again, /no changes: the firewall is active/);
  });
});
