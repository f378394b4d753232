// The mirrors' server (see build-openclaw-mirror.ts), run inside a test's network namespace:
//   GET /node/<path>         the Node distribution, as https://nodejs.org/dist/<path>
//   GET /npm/<name>          a packument, its tarball URLs made absolute on this server
//   GET /npm/<name>/-/<file> a tarball
//   GET /apt/<path>          the apt repository, as https://deb.nodesource.com/<path>
// Usage: serve-openclaw-mirror.ts <cache> <address> <port>. Prints "ready <base URL>" once
// listening; every request it cannot answer goes to stderr as "miss <url>", but for the packuments
// of optional peers nothing installs (npm/absent.json), which npm asks for and does without.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

const [cache, address, port] = process.argv.slice(2) as [string, string, string];
const base = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
const absent = new Set(JSON.parse(fs.readFileSync(path.join(cache, "npm/absent.json"), "utf8")) as string[]);

/** A file under `dir`, or undefined when `rel` leads anywhere else or nothing is there. */
function fileIn(dir: string, rel: string): string | undefined {
  const file = path.resolve(dir, rel);
  if (!file.startsWith(`${path.resolve(dir)}/`)) return undefined;
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ? file : undefined;
}

function packument(name: string): Buffer | undefined {
  const file = fileIn(path.join(cache, "npm/packuments"), `${encodeURIComponent(name)}.json`);
  if (!file) return undefined;
  const doc = JSON.parse(fs.readFileSync(file, "utf8")) as {
    versions: Record<string, { dist: { tarball: string } }>;
  };
  for (const manifest of Object.values(doc.versions))
    manifest.dist.tarball = `${base}/npm/${manifest.dist.tarball}`;
  return Buffer.from(JSON.stringify(doc));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", base);
  let body: Buffer | undefined;
  let type = "application/octet-stream";
  let file: string | undefined;
  let expected = false;
  if (req.method === "GET" || req.method === "HEAD") {
    const p = decodeURIComponent(url.pathname);
    if (p.startsWith("/node/")) file = fileIn(path.join(cache, "node"), p.slice(6));
    else if (p.startsWith("/apt/")) file = fileIn(path.join(cache, "apt"), p.slice(5));
    else if (p.startsWith("/npm/") && p.includes("/-/"))
      file = fileIn(path.join(cache, "npm/tarballs"), p.slice(5));
    else if (p.startsWith("/npm/")) {
      body = packument(p.slice(5));
      type = "application/json";
      expected = absent.has(p.slice(5));
    }
  }
  if (file) {
    res.writeHead(200, { "content-type": type, "content-length": fs.statSync(file).size });
    if (req.method === "HEAD") res.end();
    else fs.createReadStream(file).pipe(res);
  } else if (body) {
    res.writeHead(200, { "content-type": type, "content-length": body.length });
    res.end(req.method === "HEAD" ? undefined : body);
  } else {
    if (!expected) process.stderr.write(`miss ${req.method} ${req.url}\n`);
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":"not found"}');
  }
});
server.listen(Number(port), address, () => process.stdout.write(`ready ${base}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
