// PLACEHOLDER: oc-host writes the real renderers (components/host/openclaw.sh); this file only
// gives the wiring its signatures until the merge replaces it.
import type { OpenClawSecretValues, OpenClawSpec } from "../openclaw/types";

export function renderOpenClawInstallScript(spec: OpenClawSpec): string {
  return `# placeholder install ${JSON.stringify(spec)}\n`;
}

export function renderOpenClawSecrets(values: OpenClawSecretValues): string {
  return `# placeholder secrets ${Object.keys(values).length}\n`;
}

export function renderOpenClawVerifyScript(spec: OpenClawSpec): string {
  return `# placeholder verify ${JSON.stringify(spec)}\n`;
}

export function renderOpenClawRemoveScript(spec: OpenClawSpec): string {
  return `# placeholder remove ${JSON.stringify(spec)}\n`;
}

export function parseOpenClawVersion(stdout: string): string {
  return /^openclaw-version: (\S+)$/m.exec(stdout)?.[1] ?? "";
}
