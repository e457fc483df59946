// Run by Node 22, Deno and Bun alike: `<runtime> client.mjs <cometa module URL> <server URL>`.
// Opens cometa's Socket with no options (the default ladder, on the runtime's own fetch and
// WebSocket), waits for the upgrade, echoes text and binary, closes, and prints one JSON line.
// It ends on its own: a timer or connection left behind by close() keeps the process alive.
const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const [moduleUrl, url] = args;
const { Socket } = await import(moduleUrl);

const plain = async (data) => {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return { kind: "ArrayBuffer", bytes: [...new Uint8Array(data)] };
  if (typeof Blob !== "undefined" && data instanceof Blob) return { kind: "Blob", bytes: [...new Uint8Array(await data.arrayBuffer())] };
  if (ArrayBuffer.isView(data)) return { kind: data.constructor.name, bytes: [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)] };
  return { kind: typeof data };
};

const result = await new Promise((resolve) => {
  const socket = new Socket(url);
  const events = [];
  const received = [];
  const first = socket.transport.name;
  socket.on("open", () => events.push(["open", socket.transport.name]));
  socket.on("upgradeError", (error) => events.push(["upgradeError", error.transport, error.message]));
  socket.on("error", (error) => events.push(["error", error.name, error.message]));
  socket.on("upgrade", (name) => {
    events.push(["upgrade", name]);
    socket.send("héllo </script> 😀");
    socket.send(new Uint8Array([0, 1, 2, 254, 255]));
  });
  socket.on("message", (data) => {
    received.push(data);
    if (received.length === 2) socket.close();
  });
  socket.on("close", async (reason) => {
    events.push(["close", reason]);
    resolve({ first, transport: socket.transport.name, events, echoed: await Promise.all(received.map(plain)) });
  });
});
console.log(JSON.stringify(result));
