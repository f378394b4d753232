// Plays `pulumi up` over the hardening steps the way Pulumi decides what to run, with the state
// it keeps between runs. A step runs when its inputs differ from those saved after its last
// success: its stdin, or its triggers, which hold the step before it's stdout (see
// components/hardening/steps.ts). A failed step keeps its old inputs, so it runs again next
// time; the run stops at the first failure. An interruption (Ctrl-C, a CI job killed) stops it
// after a given step, whose result is saved as Pulumi saves it.
import { type RemoteStep, runStep } from "./deploy";
import type { RunResult, Sandbox } from "./sandbox";

interface Saved {
  readonly stdin: string;
  readonly trigger: string;
  readonly stdout: string;
}

export interface UpResult {
  /** The steps that ran, by resource name, in order. */
  readonly ran: string[];
  readonly results: Map<string, RunResult>;
  /** The resource name of the step that failed, if one did. */
  readonly failed?: string;
}

export class PulumiState {
  private readonly saved = new Map<string, Saved>();

  /** One `pulumi up`. `interruptAfter`: the resource name after which the run is killed. */
  async up(
    sandbox: Sandbox,
    steps: RemoteStep[],
    opts: { interruptAfter?: string; timeoutMs?: number } = {},
  ): Promise<UpResult> {
    const ran: string[] = [];
    const results = new Map<string, RunResult>();
    // The first step's triggers are the host's identity, the same for every run here.
    let trigger = "";
    for (const step of steps) {
      const saved = this.saved.get(step.name);
      if (saved && saved.stdin === step.stdin && saved.trigger === trigger) {
        trigger = saved.stdout;
        continue;
      }
      const result = await runStep(sandbox, step, opts.timeoutMs);
      ran.push(step.name);
      results.set(step.name, result);
      if (result.code !== 0) return { ran, results, failed: step.name };
      this.saved.set(step.name, { stdin: step.stdin, trigger, stdout: result.stdout });
      trigger = result.stdout;
      if (opts.interruptAfter === step.name) break;
    }
    return { ran, results };
  }
}
