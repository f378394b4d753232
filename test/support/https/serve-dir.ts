// A static file server for a test's network namespace: GET and HEAD of the files under one
// directory (the Caddy apt repository, caddyApt.ts). Usage: serve-dir.ts <dir> <address> <port>.
// Prints "ready <base URL>" once listening; every request it cannot answer goes to stderr as
// "miss <method> <url>".
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

const [dir, address, port] = process.argv.slice(2) as [string, string, string];
const base = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
const root = path.resolve(dir);

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", base);
  const file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
  const stat = file.startsWith(`${root}/`) ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
  if ((req.method === "GET" || req.method === "HEAD") && stat?.isFile()) {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": stat.size });
    if (req.method === "HEAD") res.end();
    else fs.createReadStream(file).pipe(res);
    return;
  }
  process.stderr.write(`miss ${req.method} ${req.url}\n`);
  res.writeHead(404);
  res.end();
});
server.listen(Number(port), address, () => process.stdout.write(`ready ${base}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
