export interface DiagnoseServer {
  /** The page's address, e.g. `http://127.0.0.1:3000/`. */
  url: string;
  port: number;
  /** The cometa/server instance (an engine.io Server). */
  engine: import("engine.io").Server;
  close(): Promise<void>;
}
export function startDiagnoseServer(options?: {
  port?: number;
  host?: string;
  /** Page origins allowed besides the server's own (a proxy's public origin). */
  origins?: readonly string[] | ((origin: string) => boolean);
}): Promise<DiagnoseServer>;
