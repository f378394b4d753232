import { test } from "node:test";
import assert from "node:assert/strict";
import { Findings } from "../../components/policy/errors";
import { natWarnings, parseRouter } from "../../components/policy/nat";
import { parsePolicy } from "../../components/policy/parse";

const { policy } = parsePolicy({
  ssh: { adminCidrs: ["192.168.1.0/24"] },
  services: [
    { name: "api", port: 8000, sources: ["192.168.1.0/24"] },
    { name: "vpn-only", port: 9000, sources: ["10.8.0.0/24"] },
    { name: "web", port: 443, sources: ["0.0.0.0/0", "::/0"], public: true },
  ],
});
const router = (masquerade: boolean, forwards: unknown[] = [8000, 9000, 443, 22]) => {
  const f = new Findings();
  const r = parseRouter(f, "k.router", { address: "192.168.1.1", forwards, masquerade });
  assert.deepEqual(f.problems, []);
  return r!;
};

test("plain forwarding: every restricted forwarded service turns the internet away; world-open ones are not warned", () => {
  const w = natWarnings(policy, router(false), "k.firewall");
  assert.deepEqual(
    w.map((x) => x.key),
    ["k.firewall.ssh", "k.firewall.services[0]", "k.firewall.services[1]"],
  );
  assert.match(
    w[1]!.message,
    /^api restricts 8000\/tcp to 192\.168\.1\.0\/24, but the router forwards it without masquerading/,
  );
  assert.match(
    w[1]!.message,
    /turns away every internet client the router forwards, and only 192\.168\.1\.0\/24 get in/,
  );
});

test("masquerading: a rule that admits the router admits the internet; one that does not admits no one", () => {
  const w = natWarnings(policy, router(true), "k.firewall");
  assert.match(
    w[1]!.message,
    /coming from 192\.168\.1\.1, which 192\.168\.1\.0\/24 includes: this rule admits the whole internet/,
  );
  assert.match(
    w[2]!.message,
    /which 10\.8\.0\.0\/24 does not include: this rule turns away every forwarded connection/,
  );
});

test("a warning's key is the service's index as written, not its place in the sorted policy", () => {
  const written = [{ name: "web" }, { name: "vpn-only" }, { name: "api" }];
  assert.deepEqual(
    natWarnings(policy, router(false), "k", written).map((x) => x.key),
    ["k.ssh", "k.services[2]", "k.services[1]"],
  );
});

test("ports the router does not forward are not warned about", () => {
  assert.deepEqual(natWarnings(policy, router(true, ["9100-9200"]), "k"), []);
});

test("a bad router declaration names each key", () => {
  const f = new Findings();
  parseRouter(f, "openclaw:existing.router", {
    address: "192.168.1.0/24",
    forwards: [70000],
    masquerade: "yes",
    nat: 1,
  });
  assert.deepEqual(
    f.problems.map((p) => p.key),
    [
      "openclaw:existing.router.nat",
      "openclaw:existing.router.address",
      "openclaw:existing.router.forwards[0]",
      "openclaw:existing.router.masquerade",
    ],
  );
});
