// The package's public surface, for platform teams importing the component into their stacks.
export { OpenClawServer } from "./OpenClawServer";
export type {
  OpenClawServerArgs,
  AwsTarget,
  HcloudTarget,
  ExistingTarget,
  RouterArgs,
  SshArgs,
} from "./OpenClawServer";
export { type HardeningOptions, UnmanagedRules } from "./hardening/options";
export type { OpenClawArgs, OpenClawNodeArgs } from "./openclaw/parse";
export { type OpenClawSpec, OPENCLAW_HOST, GATEWAY_SERVICE } from "./openclaw/types";
export {
  type FirewallConfig,
  type FirewallPolicy,
  type ServiceConfig,
  type OutboundConfig,
  type SshPolicyConfig,
  type OutgoingConfig,
  LoggingLevel,
  OutgoingPolicy,
} from "./policy/types";
export { parsePolicy } from "./policy/parse";
export { PolicyError, type PolicyProblem, type PolicyWarning } from "./policy/errors";
export { renderAwsRules } from "./cloud/awsRules";
export { renderHcloudRules } from "./cloud/hcloudRules";
export { renderUfwRules } from "./hardening/ufwRules";
export { renderAdmittedTable } from "./plan/table";
