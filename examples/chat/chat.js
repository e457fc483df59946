// The chat page. Everything from the network is rendered with textContent, never as HTML.
"use strict";
{
  const $ = (id) => document.getElementById(id);
  const ui = {
    state: $("state"),
    transport: $("transport"),
    choose: $("choose"),
    messages: $("messages"),
    join: $("join"),
    name: $("name"),
    say: $("say"),
    text: $("text"),
    notice: $("notice"),
    users: $("users"),
    count: $("count"),
  };

  /** Who we are once the server welcomed us; kept across reconnects to take the name back. */
  let me = null; // { name, token }
  let pendingName = null;
  let socket = null;
  /**
   * Sessions replaced by a new choice of transport but kept until the new one is welcomed
   * back under our name (make before break): the server delivers to exactly one of them, so
   * nothing said meanwhile is lost, and the room sees no leave and join.
   */
  const retiring = new Set();
  /** Sessions the server welcomed: it moves our name off them itself, and closes them. */
  const welcomed = new WeakSet();
  let retryTimer = 0;
  let retries = 0;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollToEnd(append) {
    const list = ui.messages;
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    append();
    if (atEnd) list.scrollTop = list.scrollHeight;
  }

  function showEvent(text) {
    scrollToEnd(() => ui.messages.append(element("li", "event", text)));
  }

  function showMessage({ from, text, at }) {
    const item = element("li", from === me?.name ? "message mine" : "message");
    const time = new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    item.append(element("span", "time", time), element("span", "from", from), element("span", "text", text));
    scrollToEnd(() => ui.messages.append(item));
  }

  function showUsers(users) {
    ui.count.textContent = `(${users.length})`;
    ui.users.replaceChildren(
      ...users.map(({ name, transport }) => {
        const item = element("li");
        item.append(element("span", name === me?.name ? "name me" : "name", name), element("span", "via", transport));
        return item;
      }),
    );
  }

  function showState(state, transport) {
    ui.state.textContent = state;
    ui.state.className = `pill ${state === "open" ? "open" : state.startsWith("closed") || state.startsWith("retry") ? "closed" : ""}`;
    if (transport !== undefined) ui.transport.textContent = transport;
  }

  function notice(text) {
    ui.notice.textContent = text;
  }

  function send(message) {
    // Before `open`, the open handler sends the join itself.
    if (socket?.state === "open") socket.send(JSON.stringify(message));
  }

  function handle(message, from) {
    switch (message.type) {
      case "welcome": {
        const first = !me;
        me = { name: message.name, token: message.token };
        pendingName = null;
        welcomed.add(from);
        for (const old of retiring) {
          if (old === from) continue;
          // Closing a session the server is closing too would race it (a request for a
          // session already gone is a 400 in the console): leave those to the server.
          if (welcomed.has(old)) setTimeout(() => old.close(), 5000);
          else old.close();
        }
        retiring.clear();
        ui.join.hidden = true;
        ui.say.hidden = false;
        ui.text.focus();
        notice("");
        if (first) {
          ui.messages.replaceChildren();
          for (const past of message.history) showMessage(past);
          showEvent(`You joined as ${me.name}.`);
        }
        showUsers(message.users);
        break;
      }
      case "joined":
        if (message.name !== me?.name) showEvent(`${message.name} joined.`);
        showUsers(message.users);
        break;
      case "left":
        showEvent(`${message.name} left.`);
        showUsers(message.users);
        break;
      case "users":
        showUsers(message.users);
        break;
      case "message":
        showMessage(message);
        break;
      case "error":
        notice(message.message);
        if (!me) pendingName = null;
        break;
    }
  }

  /** Opens a session with the transports chosen in the select, and rejoins if we had joined. */
  function connect() {
    clearTimeout(retryTimer);
    const choice = ui.choose.value;
    const current = new Cometa.Socket(location.origin, choice === "auto" ? {} : { transports: [choice] });
    socket = current;
    showState("connecting…", choice === "auto" ? "—" : choice);

    current.on("open", () => {
      retries = 0;
      if (current !== socket) return; // replaced before it opened: it never joins
      showState("open", current.transport.name);
      if (me) send({ type: "join", name: me.name, token: me.token });
      else if (pendingName) send({ type: "join", name: pendingName });
    });
    current.on("upgrade", (name) => {
      if (current === socket) showState("open", name);
    });
    current.on("message", (data) => {
      if ((current !== socket && !retiring.has(current)) || typeof data !== "string") return;
      let message;
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
      handle(message, current);
    });
    current.on("error", (error) => {
      if (current === socket) notice(`${error.name}: ${error.message}`);
    });
    current.on("close", (reason) => {
      retiring.delete(current);
      if (current !== socket) return; // replaced by a new choice of transport
      socket = null;
      const delay = Math.min(1000 * 2 ** retries++, 15000);
      showState(`retrying in ${Math.round(delay / 1000)} s`, `closed (${reason})`);
      retryTimer = setTimeout(connect, delay);
    });
  }

  ui.choose.addEventListener("change", () => {
    const old = socket;
    socket = null;
    if (old && me && old.state === "open") retiring.add(old);
    else old?.close();
    retries = 0;
    connect();
  });

  ui.join.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = ui.name.value.trim();
    if (!name) return;
    pendingName = name;
    notice("");
    send({ type: "join", name });
  });

  ui.say.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.text.value.trim();
    if (!text) return;
    send({ type: "say", text });
    ui.text.value = "";
  });

  // Leaving the page leaves the room now, not when the server's heartbeat gives up on us.
  addEventListener("pagehide", () => {
    clearTimeout(retryTimer);
    for (const old of retiring) old.close();
    socket?.close();
  });

  connect();
}
