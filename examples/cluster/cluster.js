// The cluster chat's page: which process this browser's session is on (the node id its sid
// starts with), the transport, and the messages of every browser on every process.
const where = document.getElementById("where");
const list = document.getElementById("messages");
const form = document.getElementById("say");
const socket = new Cometa.ReconnectingSocket();
let node = "?";
let sid = "";

function nodeBadge(id) {
  const badge = document.createElement("span");
  badge.className = `node node-${/^[a-z]$/.test(id) ? id : "x"}`;
  badge.textContent = id;
  return badge;
}

function showWhere() {
  const transport = socket.transport ? socket.transport.name : "—";
  where.replaceChildren("You are on process ", nodeBadge(node), ` (sid ${sid}), over ${transport}.`);
}

function add(...parts) {
  const item = document.createElement("li");
  item.append(...parts);
  list.prepend(item);
}

socket.on("message", (data) => {
  const message = JSON.parse(data);
  if (message.type === "hello") {
    node = message.node;
    sid = message.sid;
    showWhere();
  } else if (message.type === "message") {
    add(nodeBadge(message.node), ` ${message.name}: ${message.text}`);
  } else if (message.type === "error") {
    const error = document.createElement("span");
    error.className = "error";
    error.textContent = message.message;
    add(error);
  }
});
socket.on("upgrade", showWhere);
socket.on("disconnect", () => (where.textContent = "disconnected: reconnecting…"));

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  socket.send(JSON.stringify({ type: "say", name: data.get("name"), text: data.get("text") }));
  form.elements.text.value = "";
});
