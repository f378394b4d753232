// Preloaded (NODE_OPTIONS=--require) into the process that Pulumi's language host starts for
// `pulumi up`: `node @pulumi/pulumi/cmd/run [flags] <program>`. It stands in for the engine, the
// one thing missing without the Pulumi CLI: it sets Pulumi's mocks in the program's own copy of
// @pulumi/pulumi before cmd/run loads anything, records every registration as the engine
// receives it (type, name, parent URN), and when cmd/run signals shutdown (all resources
// registered, the event loop empty) writes a report to MOCK_ENGINE_REPORT. Everything else,
// the TypeScript loader included, is Pulumi's own code. Plain CommonJS, so it adds no loader.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const process = require("node:process");
const { performance } = require("node:perf_hooks");

const report = process.env.MOCK_ENGINE_REPORT;
if (!report) throw new Error("mockEngine.cjs: MOCK_ENGINE_REPORT (the report's path) is not set");

// cmd/run's flags, as the language host passes them (--pwd, --project, --stack, --dry-run).
const flag = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const pwd = flag("pwd") ?? process.cwd();
const resolve = (request) => require.resolve(request, { paths: [pwd] });
const pulumi = require(resolve("@pulumi/pulumi"));
const settings = require(resolve("@pulumi/pulumi/runtime/settings"));

let nextId = 1000;
// The host key the mocked host presents, at first contact (<name>-host-key) and to the check.
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA";
pulumi.runtime.setMocks(
  {
    // Provider outputs the component reads back: addresses, key names, command output.
    newResource(args) {
      const state = { ...args.inputs };
      switch (args.type) {
        case "aws:ec2/instance:Instance":
          Object.assign(state, { publicIp: "203.0.113.10", ipv6Addresses: ["2001:db8:10::10"] });
          break;
        case "aws:ec2/keyPair:KeyPair":
          state.keyName = `${args.name}-keyname`;
          break;
        case "hcloud:index/server:Server":
          Object.assign(state, { ipv4Address: "198.51.100.20", ipv6Address: "2001:db8:20::1" });
          break;
        case "command:local:Command":
          if (args.name.endsWith("-host-key")) state.stdout = HOST_KEY;
          break;
        case "command:remote:Command":
          state.stdout = `stdout of ${args.name}`;
          if (args.name.endsWith("-openclaw")) state.stdout += "\nopenclaw-version: 2026.9.6";
          break;
        case "random:index/randomPassword:RandomPassword":
          state.result = "GeneratedTokenGeneratedTokenGeneratedToken000000";
          break;
      }
      return { id: args.type.startsWith("hcloud:") ? String(nextId++) : `${args.name}-id`, state };
    },
    call(args) {
      if (args.token === "aws:ec2/getAmi:getAmi") return { id: "ami-0123456789abcdef0", ...args.inputs };
      if (args.token === "command:local:run") return { ...args.inputs, stdout: HOST_KEY, stderr: "" };
      return args.inputs;
    },
  },
  flag("project"),
  flag("stack"),
  process.argv.includes("--dry-run"),
);

const monitor = settings.getMonitor();
const registrations = [];
const outputs = {};
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (req, callback) => {
  registrations.push({
    type: req.getType(),
    name: req.getName(),
    parent: req.getParent() || undefined,
    custom: req.getCustom(),
  });
  return registerResource(req, callback);
};
const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
monitor.registerResourceOutputs = (req, callback) => {
  if (req.getUrn().includes("::pulumi:pulumi:Stack::")) {
    Object.assign(outputs, req.getOutputs()?.toJavaScript() ?? {});
  }
  return registerResourceOutputs(req, callback);
};
// cmd/run calls this once the program is done and every registration has resolved.
monitor.signalAndWaitForShutdown = (_req, callback) => {
  const files = Object.keys(require.cache);
  const loaded = new Set();
  // Each copy of @pulumi/pulumi the process loaded: the program's, and any a dependency brought.
  const sdkCopies = new Set();
  for (const file of files) {
    const m = /node_modules[\\/](@pulumi[\\/][^\\/]+|openclaw-server)[\\/]/.exec(file);
    if (m) loaded.add(m[1].replace("\\", "/"));
    const sdk = /^(.*node_modules[\\/]@pulumi[\\/]pulumi)[\\/]/.exec(file);
    if (sdk) sdkCopies.add(path.relative(pwd, sdk[1]));
  }
  // Which ts-node and typescript cmd/run registered (the module files it loaded).
  const loadedFile = (re) => path.relative(pwd, files.find((f) => re.test(f)) ?? "");
  fs.writeFileSync(
    report,
    JSON.stringify({
      registeredMs: performance.now(),
      node: process.version,
      sdkCopies: [...sdkCopies].sort(),
      cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      registrations,
      outputs: Object.keys(outputs).sort(),
      loadedPackages: [...loaded].sort(),
      tsNode: loadedFile(/[\\/]ts-node(@[^\\/]+)?[\\/](dist[\\/])?index\.js$/),
      typescript: loadedFile(/[\\/]typescript[\\/]lib[\\/]typescript\.js$/),
    }),
  );
  callback(null, {});
};
