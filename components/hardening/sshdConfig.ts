export const SSHD_MAIN = "/etc/ssh/sshd_config";
/** Read before other drop-ins (sshd keeps the first value it reads), e.g. cloud-init's 50-cloud-init.conf. */
export const SSHD_DROPIN = "/etc/ssh/sshd_config.d/00-openclaw.conf";

/** The settings the SSH hardening always makes; `hardening.sshd.settings` may not override them. */
export const SSHD_FIXED: Readonly<Record<string, string>> = {
  PasswordAuthentication: "no",
  KbdInteractiveAuthentication: "no",
  PermitRootLogin: "prohibit-password",
};

/**
 * Other names sshd reads as one of the settings above, lower case (sshd's keywords are
 * case-insensitive): its keyword table (servconf.c) maps both to KbdInteractiveAuthentication.
 */
export const SSHD_ALIASES: Readonly<Record<string, string>> = {
  challengeresponseauthentication: "KbdInteractiveAuthentication",
  skeyauthentication: "KbdInteractiveAuthentication",
};

/**
 * Keywords that are not settings: `Match` makes the lines after it apply to some logins only
 * (and override ours for them), `Include` reads other files into the drop-in.
 */
export const SSHD_REFUSED: Readonly<Record<string, string>> = {
  match: "starts a Match block, whose settings would override the hardening for the logins it matches",
  include: "reads other files into the hardening's own settings, where nothing checks them",
};

/**
 * The sshd drop-in (or the block at the top of sshd_config where no drop-ins are read). sshd
 * takes the first value it reads for a keyword, and the drop-ins are read first, in name order:
 * hence `00-openclaw.conf`, ahead of e.g. cloud-init's `50-cloud-init.conf`.
 */
export function renderSshdConfig(extra: Readonly<Record<string, string>>): string {
  const lines = Object.entries({ ...SSHD_FIXED, ...extra }).map(([k, v]) => `${k} ${v}`);
  return [
    "# Managed by the openclaw hardening (hardening.sshd): no password logins, root by key only.",
    ...lines,
  ].join("\n");
}
