// A stdio "MCP server" that misbehaves in one chosen way, for the capture's error tests:
//
//   node bad-server.mjs not-json | wrong-result | hang-list | huge | many | endless-pages
import readline from "node:readline";

const mode = process.argv[2];
const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const tool = (name) => ({ name, description: "x".repeat(400), inputSchema: { type: "object" } });

if (mode === "not-json") {
  console.log("Hello! This is a web server, not an MCP server.");
}
let page = 0;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const message = JSON.parse(line);
  if (message.method === "initialize") {
    if (mode === "not-json") return;
    if (mode === "wrong-result") {
      return send({ jsonrpc: "2.0", id: message.id, result: { hello: "world" } });
    }
    return send({
      jsonrpc: "2.0",
      id: message.id,
      result: {
        protocolVersion: "2025-11-25",
        capabilities: { tools: {} },
        serverInfo: { name: `bad-server-${mode}`, version: "0.0.0" },
      },
    });
  }
  if (message.method === "tools/list") {
    switch (mode) {
      case "hang-list":
        return;
      case "huge": // one message of about 1.3 MB
        return send({ jsonrpc: "2.0", id: message.id, result: { tools: Array.from({ length: 3000 }, (_, i) => tool(`t${i}`)) } });
      case "many": // 500 tools, in pages of 50
        page += 1;
        return send({
          jsonrpc: "2.0",
          id: message.id,
          result: {
            tools: Array.from({ length: 50 }, (_, i) => tool(`t${page}_${i}`)),
            ...(page < 10 ? { nextCursor: `page-${page}` } : {}),
          },
        });
      case "endless-pages":
        page += 1;
        return send({ jsonrpc: "2.0", id: message.id, result: { tools: [tool(`t${page}`)], nextCursor: `page-${page}` } });
      default:
        return send({ jsonrpc: "2.0", id: message.id, result: { tools: [] } });
    }
  }
  if (message.id !== undefined && message.method) {
    send({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
  }
});
