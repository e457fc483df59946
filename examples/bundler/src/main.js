// An ES module app: the bundler keeps BareSocket and the two transports named here, and drops
// the other five.
import { BareSocket, polling, websocket } from "cometa";

const $ = (id) => document.getElementById(id);
const log = (text) => $("log").append(Object.assign(document.createElement("li"), { textContent: text }));
const show = (name) => ($("transport").textContent = name);

const socket = new BareSocket(location.origin, { transports: [polling, websocket] });
socket.on("open", () => show(socket.transport.name));
socket.on("upgrade", show);
socket.on("message", (data) => log(`echo: ${data}`));
socket.on("close", (reason) => show(`closed (${reason})`));

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  socket.send($("text").value);
  $("text").value = "";
});
