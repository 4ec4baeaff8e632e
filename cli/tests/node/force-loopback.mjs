// Preloaded with `node --import` by the tests: server-everything's Streamable HTTP transport calls
// `app.listen(PORT)` without a host, i.e. on every interface, and has no option for the host.
// This keeps every listening socket of the process on 127.0.0.1.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first] = args;
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    const callback = args.find((a) => typeof a === "function");
    return callback
      ? listen.call(this, Number(first), "127.0.0.1", callback)
      : listen.call(this, Number(first), "127.0.0.1");
  }
  if (first && typeof first === "object" && !Array.isArray(first) && "port" in first) {
    return listen.call(this, { ...first, host: "127.0.0.1" }, ...args.slice(1));
  }
  return listen.apply(this, args);
};
