import { formatPortRange } from "../policy/ports";
import type { FirewallPolicy } from "../policy/types";

/** Our chain, jumped to from UFW's after-output chain of each family it enforces. */
export const SSH_REPLIES_CHAIN = "openclaw-ssh-replies";

/**
 * With outgoing traffic denied, sshd's packets out of a session conntrack never saw, as iptables
 * rules of our chain per family. UFW admits replies as ESTABLISHED, but where nothing loaded
 * conntrack before UFW's first enable (a fresh host), the session that enables it is not
 * tracked: its packets out look NEW, are dropped, and the deployment hangs. Those packets leave
 * the SSH port and, the session being open, never carry a SYN; a connection another process
 * opens from that port (any user can bind one from 1024 up wherever sshd does not hold it)
 * starts with one, and so follows the allow-list. UFW's own rules cannot match TCP flags, so this
 * is a chain of ours, kept in UFW's after-rules files. The cloud firewalls are stateful and need
 * no such rule.
 */
export function renderSshReplies(policy: FirewallPolicy): { v4: string[]; v6: string[] } {
  if (policy.outgoing.policy !== "deny") return { v4: [], v6: [] };
  const rules = policy.ssh.ports.map(
    (p) =>
      `-A ${SSH_REPLIES_CHAIN} -p tcp -m tcp --sport ${formatPortRange(p, ":")} --tcp-flags SYN NONE -j ACCEPT`,
  );
  return { v4: rules, v6: policy.ipv6 ? rules : [] };
}
