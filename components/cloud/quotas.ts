import { type PolicyProblem, PolicyError } from "../policy/errors";
import type { FirewallPolicy } from "../policy/types";
import { renderAwsRules } from "./awsRules";
import { HCLOUD_MAX_ADDRESSES_PER_RULE, renderHcloudRules } from "./hcloudRules";

/** AWS: rules per security group, per direction and per IP family (default quota). */
export const AWS_MAX_RULES_PER_FAMILY = 60;
/** Hetzner: rules per firewall, and rules counted once per address ("effective rules"). */
export const HCLOUD_MAX_RULES = 50;
export const HCLOUD_MAX_EFFECTIVE_RULES = 500;

export type CloudProvider = "aws" | "hcloud";

/** The problems a policy would hit at the provider; empty when it fits. */
export function quotaProblems(policy: FirewallPolicy, provider: CloudProvider, key: string): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const advice = "fewer sources or ports, wider networks, or a VPN in front of the service";
  if (provider === "aws") {
    const rules = renderAwsRules(policy);
    for (const direction of ["ingress", "egress"] as const) {
      for (const fam of [4, 6] as const) {
        const n = rules.filter(
          (r) => r.direction === direction && (fam === 4 ? r.cidrIpv4 : r.cidrIpv6) !== undefined,
        ).length;
        if (n > AWS_MAX_RULES_PER_FAMILY) {
          problems.push({
            key: direction === "ingress" ? `${key}.services` : `${key}.outgoing.allow`,
            value: n,
            problem: `renders to ${n} IPv${fam} ${direction} rules, over the AWS security group limit of ${AWS_MAX_RULES_PER_FAMILY} per IP family`,
            accepted: `at most ${AWS_MAX_RULES_PER_FAMILY} (sources x port ranges per family): ${advice}`,
          });
        }
      }
    }
  } else {
    const rules = renderHcloudRules(policy);
    if (rules.length > HCLOUD_MAX_RULES) {
      problems.push({
        key: `${key}.services`,
        value: rules.length,
        problem: `renders to ${rules.length} Hetzner firewall rules, over Hetzner's limit of ${HCLOUD_MAX_RULES}`,
        accepted: `at most ${HCLOUD_MAX_RULES} rules (one per service port range and ${HCLOUD_MAX_ADDRESSES_PER_RULE} addresses): ${advice}`,
      });
    }
    const effective = rules.reduce((n, r) => n + (r.sourceIps ?? r.destinationIps ?? []).length, 0);
    if (effective > HCLOUD_MAX_EFFECTIVE_RULES) {
      problems.push({
        key: `${key}.services`,
        value: effective,
        problem: `renders to ${effective} effective Hetzner rules (one per address), over Hetzner's limit of ${HCLOUD_MAX_EFFECTIVE_RULES}`,
        accepted: `at most ${HCLOUD_MAX_EFFECTIVE_RULES} addresses over all rules: ${advice}`,
      });
    }
  }
  return problems;
}

export function assertWithinQuotas(policy: FirewallPolicy, provider: CloudProvider, key: string): void {
  const problems = quotaProblems(policy, provider, key);
  if (problems.length > 0) throw new PolicyError(problems);
}
