import { OPENCLAW_HOST, type OpenClawSpec } from "./types";

/** The gateway's config file, inside its state directory (OPENCLAW_CONFIG_PATH). */
export const OPENCLAW_CONFIG_FILE = `${OPENCLAW_HOST.stateDir}/openclaw.json`;
/** Where the unit file is written. */
export const OPENCLAW_UNIT_PATH = `/etc/systemd/system/${OPENCLAW_HOST.unit}`;
/** OpenClaw exits with 78 on an invalid config: restarting cannot fix that. */
export const OPENCLAW_CONFIG_EXIT = 78;

/** The node binary the service runs: the tarball's own directory, or the apt package's. */
export function nodeBinary(spec: Pick<OpenClawSpec, "node">): string {
  return spec.node.kind === "tarball"
    ? `${OPENCLAW_HOST.nodeRoot}/${spec.node.version}/bin/node`
    : "/usr/bin/node";
}

/**
 * The service's environment that is not secret, as `NAME=value` lines: also used to run the
 * security audit with the service's own environment. The secrets (token, provider keys) and
 * OPENCLAW_DISABLE_BONJOUR are in the 0600 environment file.
 */
export function openclawServiceEnvironment(spec: Pick<OpenClawSpec, "node">): string[] {
  const nodeDir = nodeBinary(spec).replace(/\/node$/, "");
  return [
    // A system user has no home of its own: OpenClaw's path defaults follow HOME.
    `HOME=${OPENCLAW_HOST.stateDir}`,
    `OPENCLAW_STATE_DIR=${OPENCLAW_HOST.stateDir}`,
    `OPENCLAW_CONFIG_PATH=${OPENCLAW_CONFIG_FILE}`,
    // systemd owns the lifecycle: doctor must not install a competing user service.
    "OPENCLAW_SERVICE_REPAIR_POLICY=external",
    // Versions change only through the install step, which can roll back.
    "OPENCLAW_NO_AUTO_UPDATE=1",
    `PATH=${nodeDir}:/usr/local/bin:/usr/bin:/bin`,
  ];
}

/**
 * The gateway's systemd unit: the unprivileged `openclaw` user, writable state only, and the
 * sandboxing systemd offers a network daemon. Two settings are left off on purpose:
 * MemoryDenyWriteExecute, since V8's JIT maps memory writable and executable; and
 * RestrictSUIDSGID, since systemd enforces it by failing every openat2() with ENOSYS (its mode
 * cannot be inspected), and the gateway takes its state lock with openat2 and no fallback.
 * Neither is needed for what they guard: the service has no capabilities and NoNewPrivileges.
 */
export function renderOpenClawUnit(spec: Pick<OpenClawSpec, "node" | "port" | "bind">): string {
  const entry = `${OPENCLAW_HOST.current}/node_modules/openclaw/openclaw.mjs`;
  return [
    "# Managed by openclaw-server: changes here are replaced by the next install step.",
    "[Unit]",
    "Description=OpenClaw gateway",
    "Documentation=https://docs.openclaw.ai/gateway",
    "After=network-online.target",
    "Wants=network-online.target",
    "StartLimitIntervalSec=300",
    "StartLimitBurst=10",
    "",
    "[Service]",
    "Type=simple",
    `User=${OPENCLAW_HOST.user}`,
    `Group=${OPENCLAW_HOST.user}`,
    `WorkingDirectory=${OPENCLAW_HOST.stateDir}`,
    ...openclawServiceEnvironment(spec).map((e) => `Environment=${e}`),
    `EnvironmentFile=${OPENCLAW_HOST.envFile}`,
    `ExecStart=${nodeBinary(spec)} ${entry} gateway run --port ${spec.port} --bind ${spec.bind}`,
    "Restart=on-failure",
    "RestartSec=5",
    `RestartPreventExitStatus=${OPENCLAW_CONFIG_EXIT}`,
    "SuccessExitStatus=0 143",
    "KillMode=mixed",
    // The gateway clamps its drain of running work to the unit's stop timeout.
    "TimeoutStopSec=90",
    "UMask=0077",
    "NoNewPrivileges=yes",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "ProtectSystem=strict",
    `ReadWritePaths=${OPENCLAW_HOST.stateDir}`,
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    // AF_NETLINK: Node lists the host's interfaces (os.networkInterfaces) through it.
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
