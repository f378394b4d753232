// Loads a provider SDK only for the target in use: a stack on Hetzner or an existing host never
// requires @pulumi/aws (about 0.12 s of every start), nor an AWS one @pulumi/hcloud. The same
// functions and types as cloud/aws.ts and cloud/hcloud.ts; the `import type`s are erased.
import type * as Aws from "./aws";
import type * as Hcloud from "./hcloud";

export type { AwsServerArgs } from "./aws";
export type { HcloudServerArgs } from "./hcloud";

export const createAwsServer: typeof Aws.createAwsServer = (...args) =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, on first use
  (require("./aws") as typeof Aws).createAwsServer(...args);

export const createHcloudServer: typeof Hcloud.createHcloudServer = (...args) =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, on first use
  (require("./hcloud") as typeof Hcloud).createHcloudServer(...args);
