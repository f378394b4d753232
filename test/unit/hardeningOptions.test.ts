// openclaw:hardening: the sshd settings that could undo the SSH hardening, and where the host
// may keep its state. Each refusal names the key, the value and what is accepted.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PolicyError } from "../../components/policy/errors";
import { parseHardeningOptions } from "../../components/hardening/options";
import { sshdEffective } from "../../components/hardening/sshdSettings";
import { OPENCLAW_HOST } from "../../components/openclaw/types";

const KEY = "openclaw:hardening";

/** The one problem `raw` gives, as the error prints it. */
function refusal(raw: unknown): { key: string; message: string } {
  try {
    parseHardeningOptions(raw, KEY);
  } catch (e) {
    assert.ok(e instanceof PolicyError, String(e));
    assert.equal(e.problems.length, 1, e.message);
    return { key: e.problems[0]!.key, message: e.message };
  }
  assert.fail(`accepted: ${JSON.stringify(raw)}`);
}

describe("hardening.sshd.settings refuses what would undo the SSH hardening", () => {
  test("Match, in any case, with the issue's ChallengeResponseAuthentication", () => {
    const r = refusal({ sshd: { settings: { Match: "User ubuntu" } } });
    assert.equal(r.key, "openclaw:hardening.sshd.settings.Match");
    assert.match(
      r.message,
      /openclaw:hardening\.sshd\.settings\.Match: "User ubuntu" starts a Match block, whose settings would override the hardening for the logins it matches\. Accepted: sshd_config keywords that apply to every login, such as MaxAuthTries \(no Match or Include\)\./,
    );
    assert.equal(
      refusal({ sshd: { settings: { match: "all" } } }).key,
      "openclaw:hardening.sshd.settings.match",
    );
  });
  test("Include", () => {
    const r = refusal({ sshd: { settings: { Include: "/home/ubuntu/evil.conf" } } });
    assert.equal(r.key, "openclaw:hardening.sshd.settings.Include");
    assert.match(r.message, /reads other files into the hardening's own settings/);
  });
  for (const alias of [
    "ChallengeResponseAuthentication",
    "challengeresponseauthentication",
    "SkeyAuthentication",
  ]) {
    test(`${alias}, another name for KbdInteractiveAuthentication`, () => {
      const r = refusal({ sshd: { settings: { [alias]: "yes" } } });
      assert.equal(r.key, `openclaw:hardening.sshd.settings.${alias}`);
      assert.match(
        r.message,
        new RegExp(
          `: "yes" is another name sshd reads for KbdInteractiveAuthentication, which the SSH hardening sets itself\\. Accepted: leave ${alias} out, or set hardening\\.sshd to false\\.`,
        ),
      );
    });
  }
  test("the issue's pair gives one problem each", () => {
    try {
      parseHardeningOptions(
        { sshd: { settings: { Match: "User ubuntu", ChallengeResponseAuthentication: "yes" } } },
        KEY,
      );
      assert.fail("accepted");
    } catch (e) {
      assert.ok(e instanceof PolicyError);
      assert.deepEqual(
        e.problems.map((p) => p.key),
        [
          "openclaw:hardening.sshd.settings.Match",
          "openclaw:hardening.sshd.settings.ChallengeResponseAuthentication",
        ],
      );
    }
  });
  test("ordinary settings still pass", () => {
    const { sshd } = parseHardeningOptions(
      { sshd: { settings: { MaxAuthTries: 3, AllowUsers: "ubuntu deploy" } } },
      KEY,
    );
    assert.deepEqual(sshd, { settings: { MaxAuthTries: "3", AllowUsers: "ubuntu deploy" } });
  });
});

describe("hardening.sshdSettings accepts only settings that cannot weaken the SSH hardening", () => {
  // With StrictModes no and AuthorizedKeysFile /tmp/%u together, any local user (the gateway's
  // included) could add keys for root; the others let keys, host trust or the environment in
  // from files the hardening does not control.
  for (const [name, value, accepted] of [
    ["StrictModes", "no", /Accepted: yes \(/],
    ["HostbasedAuthentication", "yes", /Accepted: no \(/],
    ["PermitUserEnvironment", "yes", /Accepted: no \(/],
    ["IgnoreRhosts", "no", /Accepted: yes \(/],
    ["PermitEmptyPasswords", true, /Accepted: no\b/],
    ["LogLevel", "QUIET", /Accepted: INFO or VERBOSE \(/],
  ] as const) {
    test(`${name} ${String(value)} is refused, naming the key, the value and what is accepted`, () => {
      const r = refusal({ sshdSettings: { [name]: value } });
      assert.equal(r.key, `${KEY}.sshdSettings.${name}`);
      assert.match(
        r.message,
        new RegExp(`\\.${name}: ${JSON.stringify(value)} is not accepted for ${name}\\.`),
      );
      assert.match(r.message, accepted);
    });
  }
  for (const [name, value] of [
    ["AuthorizedKeysFile", "/tmp/%u"],
    ["AuthorizedKeysCommand", "/usr/local/bin/keys %u"],
    ["TrustedUserCAKeys", "/etc/ssh/ca.pub"],
    ["AcceptEnv", "LD_PRELOAD"],
    ["ForceCommand", "/bin/true"],
    ["Port", "2222"],
  ] as const) {
    test(`${name} is not a setting it accepts; the error lists those it does`, () => {
      const r = refusal({ sshdSettings: { [name]: value } });
      assert.equal(r.key, `${KEY}.sshdSettings.${name}`);
      assert.match(r.message, /is not one of the sshd settings the hardening accepts/);
      assert.match(r.message, /Accepted: one of AllowAgentForwarding, AllowGroups, [^.]*MaxAuthTries/);
    });
  }
  test("the safe values of those settings, and the usual ones, pass in any letter case", () => {
    const { sshd } = parseHardeningOptions(
      {
        sshdSettings: {
          strictmodes: "yes",
          IgnoreRhosts: true,
          HostbasedAuthentication: false,
          PermitUserEnvironment: "No",
          LogLevel: "verbose",
          LoginGraceTime: "1m30s",
          MaxStartups: "10:30:60",
          X11Forwarding: false,
        },
      },
      KEY,
    );
    assert.deepEqual(sshd, {
      settings: {
        StrictModes: "yes",
        IgnoreRhosts: "yes",
        HostbasedAuthentication: "no",
        PermitUserEnvironment: "no",
        LogLevel: "VERBOSE",
        LoginGraceTime: "1m30s",
        MaxStartups: "10:30:60",
        X11Forwarding: "no",
      },
    });
  });
  for (const [name, value] of [
    ["MaxAuthTries", "lots"],
    ["MaxAuthTries", 0],
    ["LoginGraceTime", 0],
    ["LoginGraceTime", "2 minutes"],
    ["MaxStartups", "100:30:10"],
    ["AllowTcpForwarding", "sometimes"],
    ["Banner", "relative/path"],
    ["AllowUsers", "root;reboot"],
  ] as const) {
    test(`${name} ${JSON.stringify(value)}: the value is checked too`, () => {
      const r = refusal({ sshdSettings: { [name]: value } });
      assert.equal(r.key, `${KEY}.sshdSettings.${name}`);
      assert.match(r.message, /Accepted: /);
    });
  }
  test("each accepted setting says what sshd -T prints for it, which verify compares", () => {
    const { sshd } = parseHardeningOptions(
      {
        sshdSettings: {
          LoginGraceTime: "1m30s",
          ClientAliveInterval: "5m",
          AllowUsers: "ubuntu deploy@192.0.2.0/24",
          LogLevel: "verbose",
          MaxAuthTries: 3,
        },
      },
      KEY,
    );
    assert.ok(sshd);
    assert.deepEqual(sshdEffective(sshd.settings), [
      "logingracetime 90",
      "clientaliveinterval 300",
      "allowusers ubuntu",
      "allowusers deploy@192.0.2.0/24",
      "loglevel VERBOSE",
      "maxauthtries 3",
    ]);
  });
});

describe("hardening.sshdSettings (the args' form of sshd.settings)", () => {
  test("gives the same settings as sshd.settings", () => {
    const settings = { MaxAuthTries: "3", AllowUsers: "ubuntu deploy" };
    assert.deepEqual(
      parseHardeningOptions({ sshdSettings: settings }, KEY),
      parseHardeningOptions({ sshd: { settings } }, KEY),
    );
    assert.deepEqual(parseHardeningOptions({ sshd: true, sshdSettings: settings }, KEY).sshd, {
      settings,
    });
  });
  test("is checked by the same rules, under its own key", () => {
    const r = refusal({ sshdSettings: { Match: "User ubuntu" } });
    assert.equal(r.key, "openclaw:hardening.sshdSettings.Match");
    assert.match(r.message, /starts a Match block/);
  });
  test("with sshd: false, or beside sshd.settings, is refused", () => {
    assert.deepEqual(
      refusal({ sshd: false, sshdSettings: { MaxAuthTries: "3" } }).key,
      `${KEY}.sshdSettings`,
    );
    assert.match(refusal({ sshd: false, sshdSettings: {} }).message, /is given with sshd: false/);
    assert.match(
      refusal({ sshd: { settings: {} }, sshdSettings: { MaxAuthTries: "3" } }).message,
      /is given together with sshd\.settings/,
    );
  });
});

describe("hardening.stateDir", () => {
  for (const [dir, problem] of [
    ["/tmp", "is in /tmp, which every user of the host can write to"],
    ["/tmp/openclaw", "is in /tmp, which every user of the host can write to"],
    ["/var/tmp/openclaw", "is in /var/tmp, which every user of the host can write to"],
    ["/dev/shm/x", "is in /dev/shm, which every user of the host can write to"],
    ["/run/lock/openclaw", "is in /run/lock, which every user of the host can write to"],
    ["var/lib/openclaw", "is not an absolute path"],
    ["./openclaw", "is not an absolute path"],
    ["/var/lib/../tmp/x", "is not normalised; did you mean /var/tmp/x?"],
    ["/var/lib/./openclaw", "is not normalised; did you mean /var/lib/openclaw?"],
    ["/var/lib//openclaw", "is not normalised; did you mean /var/lib/openclaw?"],
    ["/var/lib/openclaw/", "is not normalised; did you mean /var/lib/openclaw?"],
    ["/", "is the root directory"],
    ["/var/lib/x'; reboot; '", "contains characters other than letters, digits, '.', '_', '-' and '/'"],
  ] as const) {
    test(`${JSON.stringify(dir)} is refused: ${problem}`, () => {
      const r = refusal({ stateDir: dir });
      assert.equal(r.key, "openclaw:hardening.stateDir");
      assert.ok(
        r.message.includes(`openclaw:hardening.stateDir: ${JSON.stringify(dir)} ${problem}`),
        r.message,
      );
      assert.match(
        r.message,
        /Accepted: a normalised absolute path .* that only root can write to, outside OpenClaw's directories \(.*\), such as \/var\/lib\/openclaw\./,
      );
    });
  }
  for (const dir of [
    "/var/lib/openclaw",
    "/srv/openclaw-state",
    "/run/openclaw",
    "/var/lib/tmp",
    "/tmpfiles/x",
  ]) {
    test(`${dir} is accepted`, () =>
      assert.equal(parseHardeningOptions({ stateDir: dir }, KEY).stateDir, dir));
  }
});

describe("hardening.stateDir outside OpenClaw's directories (the gateway's user owns some of them)", () => {
  const ACCEPTED =
    /Accepted: a normalised absolute path .* that only root can write to, outside OpenClaw's directories \(\/opt\/openclaw, \/etc\/openclaw, \/var\/lib\/openclaw-gateway, \/var\/lib\/openclaw-gateway-recovery\), such as \/var\/lib\/openclaw\./;
  for (const [dir, problem] of [
    ["/var/lib/openclaw-gateway", "is /var/lib/openclaw-gateway, one of OpenClaw's directories"],
    [
      "/var/lib/openclaw-gateway/hardening",
      "is inside /var/lib/openclaw-gateway, one of OpenClaw's directories",
    ],
    ["/opt/openclaw", "is /opt/openclaw, one of OpenClaw's directories"],
    ["/opt/openclaw/state", "is inside /opt/openclaw, one of OpenClaw's directories"],
    ["/opt/openclaw/releases/hardening", "is inside /opt/openclaw, one of OpenClaw's directories"],
    ["/etc/openclaw/state", "is inside /etc/openclaw, one of OpenClaw's directories"],
    [
      "/var/lib/openclaw-gateway-recovery/x",
      "is inside /var/lib/openclaw-gateway-recovery, one of OpenClaw's directories",
    ],
    ["/var/lib", "contains /var/lib/openclaw-gateway, one of OpenClaw's directories"],
    ["/opt", "contains /opt/openclaw, one of OpenClaw's directories"],
  ] as const) {
    test(`${dir} is refused: ${problem}`, () => {
      const r = refusal({ stateDir: dir });
      assert.equal(r.key, "openclaw:hardening.stateDir");
      assert.ok(
        r.message.includes(`openclaw:hardening.stateDir: ${JSON.stringify(dir)} ${problem}`),
        r.message,
      );
      assert.match(r.message, ACCEPTED);
    });
  }
  test("every path OpenClaw's install step uses is covered: it, and anything under it, is refused", () => {
    const paths = Object.values(OPENCLAW_HOST).filter((v) => v.startsWith("/"));
    assert.ok(paths.length >= 5, paths.join(", "));
    for (const p of paths) {
      for (const dir of [p, `${p}/hardening`]) {
        assert.match(refusal({ stateDir: dir }).message, /one of OpenClaw's directories/, dir);
      }
    }
  });
  for (const dir of [
    "/var/lib/openclaw",
    "/var/lib/openclaw-gatewayx",
    "/opt/openclaw-hardening",
    "/etc/openclaw-state",
  ]) {
    test(`${dir}, beside them, is accepted`, () =>
      assert.equal(parseHardeningOptions({ stateDir: dir }, KEY).stateDir, dir));
  }
});

describe("hardening's numbers: out of range names the range, a fraction or a string asks for a whole number", () => {
  for (const [name, value, problem, accepted] of [
    [
      "rollbackAfter",
      20,
      "is out of range (30 to 3600 seconds)",
      "a whole number of seconds from 30 to 3600",
    ],
    [
      "rollbackAfter",
      4000,
      "is out of range (30 to 3600 seconds)",
      "a whole number of seconds from 30 to 3600",
    ],
    ["rollbackAfter", 45.5, "is not a whole number of seconds", "a whole number of seconds from 30 to 3600"],
    ["rollbackAfter", "60", "is not a whole number of seconds", "a whole number of seconds from 30 to 3600"],
    ["perDialTimeout", 0, "is out of range (1 to 300 seconds)", "a whole number of seconds from 1 to 300"],
    ["perDialTimeout", 301, "is out of range (1 to 300 seconds)", "a whole number of seconds from 1 to 300"],
    ["perDialTimeout", 2.5, "is not a whole number of seconds", "a whole number of seconds from 1 to 300"],
  ] as const) {
    test(`${name}: ${JSON.stringify(value)} ${problem}`, () => {
      const r = refusal({ [name]: value, timeout: "2h" });
      assert.equal(r.key, `openclaw:hardening.${name}`);
      assert.ok(
        r.message.includes(
          `openclaw:hardening.${name}: ${JSON.stringify(value)} ${problem}. Accepted: ${accepted}.`,
        ),
        r.message,
      );
    });
  }
});
