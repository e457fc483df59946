// Broadcasting to every session of a plain engine.io (or cometa/server) app on every process,
// through Redis pub/sub: the process that broadcasts publishes once, and each process,
// itself included, sends the message to the sessions it holds. socket.io apps use
// @socket.io/redis-adapter instead (README, "Scaling out").
//
// `publisher` and `subscriber`: two connected clients of the `redis` package (v4); a client in
// subscriber mode can do nothing else. Text messages only (Redis channels carry strings here).

/**
 * Subscribes `engine` to `channel`; resolves once subscribed with `broadcast(text)`, which
 * resolves with the number of processes that received it, and `stop()`.
 */
export async function redisFanOut(engine, { publisher, subscriber, channel = "cometa:broadcast" }) {
  const deliver = (text) => {
    for (const socket of Object.values(engine.clients)) socket.send(text);
  };
  await subscriber.subscribe(channel, deliver);
  return {
    broadcast: (text) => publisher.publish(channel, text),
    stop: () => subscriber.unsubscribe(channel, deliver),
  };
}
