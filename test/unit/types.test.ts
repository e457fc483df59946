// @vitest-environment node
/**
 * The public API's types, checked by `tsc` (npm run typecheck) through expectTypeOf; at run
 * time only the export list is checked. The function below is never called.
 */
import { describe, expect, expectTypeOf, test } from "vitest";
import * as cometa from "../../src/index.js";
import {
  BareReconnectingSocket,
  BareSocket,
  BaseSocket,
  type CloseDetails,
  type CloseReason,
  CometaError,
  type MessageData,
  type OpenData,
  polling,
  ReconnectingSocket,
  type ReconnectingSocketState,
  ResumeError,
  ServerError,
  Socket,
  type SocketOptions,
  type SocketState,
  type TransportDefinition,
  type TransportInfo,
  type TransportName,
  TransportError,
  UpgradeError,
  websocket,
} from "../../src/index.js";

function typeChecks(socket: Socket) {
  // on() returns its unbind
  expectTypeOf(socket.on("open", () => {})).toEqualTypeOf<() => void>();
  expectTypeOf(socket.once("open", () => {})).toEqualTypeOf<() => void>();

  // each event's listener gets that event's arguments
  socket.on("message", (data) => expectTypeOf(data).toEqualTypeOf<string | ArrayBuffer | Blob>());
  socket.on("close", (reason, details) => {
    expectTypeOf(reason).toEqualTypeOf<CloseReason>();
    expectTypeOf(details).toEqualTypeOf<CloseDetails>();
    expectTypeOf(details.unsent).toEqualTypeOf<MessageData[]>();
    expectTypeOf(details.error).toEqualTypeOf<CometaError | undefined>();
  });
  socket.on("error", (error) => expectTypeOf(error).toEqualTypeOf<CometaError>());
  socket.on("handshake", (data) => expectTypeOf(data).toEqualTypeOf<OpenData>());
  socket.on("upgrade", (name) => expectTypeOf(name).toEqualTypeOf<string>());
  socket.on("upgradeError", (error) => expectTypeOf(error).toEqualTypeOf<UpgradeError>());
  // resumable sessions: the break's error, then the transport the session goes on over
  socket.on("resuming", (error) => expectTypeOf(error).toEqualTypeOf<CometaError>());
  socket.on("resumed", (name) => expectTypeOf(name).toEqualTypeOf<string>());
  expectTypeOf(socket.resumable).toEqualTypeOf<boolean>();
  // @ts-expect-error read-only: negotiated in the handshake
  socket.resumable = true;
  expectTypeOf<SocketState>().toEqualTypeOf<"opening" | "open" | "resuming" | "closing" | "closed">();
  new Socket("http://h", { resume: false });
  new Socket("http://h", { resume: { maxBytes: 1e5 } });
  // @ts-expect-error the window is the server's to set
  new Socket("http://h", { resume: { window: 1000 } });
  expectTypeOf<ResumeError>().toExtend<CometaError>();
  expectTypeOf<CloseReason>().toEqualTypeOf<
    "forced close" | "transport close" | "transport error" | "ping timeout" | "parse error"
  >();

  // @ts-expect-error an event that does not exist
  socket.on("connect", () => {});
  // @ts-expect-error a listener with the wrong argument type
  socket.on("message", (data: number) => data);
  // @ts-expect-error the emitter is held, not inherited: there is no public emit
  socket.emit("open");
  expectTypeOf(socket.off("open")).toEqualTypeOf<Socket>();

  // send takes strings, binary and Blobs, and chains
  expectTypeOf(socket.send("x")).toEqualTypeOf<Socket>();
  socket.send(new Uint8Array(1)).send(new ArrayBuffer(1)).send(new Blob([]), () => {});
  // @ts-expect-error numbers are not messages
  socket.send(1);
  expectTypeOf(socket.close()).toEqualTypeOf<Socket>();

  expectTypeOf(socket.state).toEqualTypeOf<SocketState>();
  expectTypeOf(socket.id).toEqualTypeOf<string | undefined>();
  expectTypeOf(socket.transport).toEqualTypeOf<TransportInfo>();
  expectTypeOf(socket.transport.name).toEqualTypeOf<string>();
  // state is read-only: only the socket moves it
  // @ts-expect-error a getter without a setter
  socket.state = "open";
  // @ts-expect-error as above
  socket.transport = socket.transport;
  // @ts-expect-error the transport is a view: it cannot be closed from outside
  socket.transport.close();

  // transports as values or, on Socket, as names
  expectTypeOf(polling).toEqualTypeOf<TransportDefinition>();
  expectTypeOf<SocketOptions["transports"]>().toEqualTypeOf<readonly (TransportDefinition | TransportName)[] | undefined>();
  new BareSocket("http://h", { transports: [polling, websocket] });
  // the deprecated name is the same class
  expectTypeOf<BaseSocket>().toEqualTypeOf<BareSocket>();
  new Socket("http://h", { transports: ["websocket", polling], binaryType: "blob" });
  // @ts-expect-error binaryType is a union
  new Socket("http://h", { binaryType: "text" });
  // @ts-expect-error timeouts are numbers
  new Socket("http://h", { connectTimeout: "5s" });
  new Socket();

  // errors carry their fields
  expectTypeOf<ServerError["code"]>().toEqualTypeOf<number>();
  expectTypeOf<TransportError["status"]>().toEqualTypeOf<number | undefined>();
  expectTypeOf<UpgradeError>().toExtend<CometaError>();
  expectTypeOf<CometaError>().toExtend<Error>();
}

function sameFace(socket: Socket, reconnecting: ReconnectingSocket) {
  // one shape: the transport as the same view (none between sessions), the states shared
  expectTypeOf(reconnecting.transport).toEqualTypeOf<TransportInfo | undefined>();
  expectTypeOf<SocketState>().toExtend<ReconnectingSocketState>();
  expectTypeOf<ReconnectingSocketState>().toEqualTypeOf<SocketState | "reconnecting">();
  expectTypeOf(reconnecting.on("open", () => {})).toEqualTypeOf<() => void>();
  reconnecting.on("error", (error) => expectTypeOf(error).toEqualTypeOf<CometaError>());
  reconnecting.on("resuming", (error) => expectTypeOf(error).toEqualTypeOf<CometaError>());
  reconnecting.on("resumed", (name) => expectTypeOf(name).toEqualTypeOf<string>());
  // @ts-expect-error no public emit here either
  reconnecting.emit("open");
  // @ts-expect-error read-only
  reconnecting.state = "open";
  expectTypeOf(reconnecting.socket).toEqualTypeOf<BareSocket | undefined>();
  expectTypeOf(socket.send("x")).toEqualTypeOf<Socket>();
  expectTypeOf(reconnecting.send("x")).toEqualTypeOf<ReconnectingSocket>();
}

describe("public API", () => {
  test("the type checks compile (the function exists, it is never run)", () => {
    expectTypeOf(typeChecks).parameter(0).toEqualTypeOf<Socket>();
    expect(typeChecks).toBeTypeOf("function");
    expect(sameFace).toBeTypeOf("function");
  });

  test("the package entry exports the socket, the core transports and every error class", () => {
    // a subset: adapters are being added to the entry alongside these
    expect(Object.keys(cometa)).toEqual(
      expect.arrayContaining([
        "BareReconnectingSocket",
        "BareSocket",
        "BaseSocket",
        "CometaError",
        "HandshakeError",
        "HeartbeatError",
        "ProtocolError",
        "ResumeError",
        "ServerError",
        "Socket",
        "TransportError",
        "UpgradeError",
        "UsageError",
        "polling",
        "protocol",
        "transports",
        "websocket",
      ]),
    );
    expect(cometa.protocol).toBe(4);
    expect(cometa.transports.slice(0, 2)).toEqual([polling, websocket]);
    expect(Object.getPrototypeOf(Socket)).toBe(BareSocket);
    expect(Object.getPrototypeOf(ReconnectingSocket)).toBe(BareReconnectingSocket);
    // the deprecated names are the same classes, not copies
    expect(BaseSocket).toBe(BareSocket);
    expect(cometa.BaseReconnectingSocket).toBe(BareReconnectingSocket);
  });

  test("every error is a CometaError with its class name", () => {
    for (const ErrorClass of [cometa.HandshakeError, cometa.HeartbeatError, cometa.UsageError, cometa.ResumeError]) {
      const error = new ErrorClass("x", { cause: 1 });
      expect(error).toBeInstanceOf(CometaError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(ErrorClass.name);
      expect(error.cause).toBe(1);
    }
    expect(new TransportError("x", "polling", 502).name).toBe("TransportError");
    expect(new ServerError(1, "m", 400, "polling").name).toBe("ServerError");
  });
});
